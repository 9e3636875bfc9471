//! Printing that cannot panic.
//!
//! `println!` and `eprintln!` panic when the stream fails: a full disk behind `> file`,
//! `> /dev/full`, a pipe whose reader has gone. Everything lazarus prints (the trainer's epoch
//! lines, the diagnostics' table and warnings, the examples' output) goes through
//! [`print_line`] and [`eprint_line`] instead, which return [`Error::Output`] naming the stream.
//!
//! ```
//! use lazarus_train::console::print_line;
//! print_line(format_args!("epoch {} of {}", 1, 5))?;
//! # Ok::<(), lazarus_train::Error>(())
//! ```

use std::fmt::Display;
use std::io::{self, Write};

use crate::{Error, Result};

/// Write `text` and a newline to standard output, and flush it.
///
/// # Errors
/// [`Error::Output`] with `stream: "stdout"` when the write or the flush fails.
pub fn print_line(text: impl Display) -> Result<()> {
    write_line(&mut io::stdout().lock(), "stdout", &text)
}

/// Write `text` and a newline to standard error.
///
/// # Errors
/// [`Error::Output`] with `stream: "stderr"` when the write fails.
pub fn eprint_line(text: impl Display) -> Result<()> {
    write_line(&mut io::stderr().lock(), "stderr", &text)
}

/// Write `text` and a newline to `out` and flush it; an I/O error becomes [`Error::Output`]
/// naming `stream`. The one place the public functions (and the tests, with a failing writer)
/// go through.
pub(crate) fn write_line(
    out: &mut dyn Write,
    stream: &'static str,
    text: &dyn Display,
) -> Result<()> {
    // Flushed at once: a failure belongs to this line, not to some later write or to exit.
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|source| Error::Output { stream, source })
}

/// A writer that fails every write as `/dev/full` does, for the tests of everything that prints.
#[cfg(test)]
pub(crate) struct FullDisk;

#[cfg(test)]
impl Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::StorageFull))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_is_a_typed_error_naming_the_stream() {
        let err = write_line(&mut FullDisk, "stdout", &"hello").unwrap_err();
        assert!(
            matches!(&err, Error::Output { stream: "stdout", source } if source.kind() == io::ErrorKind::StorageFull),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("writing to stdout failed: "),
            "{err}"
        );
    }

    #[test]
    fn a_line_ends_with_a_newline() {
        let mut out = Vec::new();
        write_line(&mut out, "stdout", &format_args!("a {}", 1)).unwrap();
        assert_eq!(out, b"a 1\n");
    }
}
