//! Writing to the terminal without panicking: `println!` panics when stdout is closed or the
//! disk behind a redirection is full; these functions return the error instead.

use std::io::Write;

use crate::{Error, Result};

/// Standard output or standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Write `line` and a newline to `stream`, flushed.
///
/// # Errors
/// [`Error::Io`] naming `<stdout>` or `<stderr>` when the write fails.
pub(crate) fn write_line(stream: Stream, line: &str) -> Result<()> {
    let (name, result) = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            (
                "<stdout>",
                writeln!(out, "{line}").and_then(|()| out.flush()),
            )
        }
        Stream::Stderr => {
            let mut err = std::io::stderr().lock();
            (
                "<stderr>",
                writeln!(err, "{line}").and_then(|()| err.flush()),
            )
        }
    };
    result.map_err(Error::io(std::path::Path::new(name)))
}
