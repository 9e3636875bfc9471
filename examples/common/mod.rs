//! What the examples share: standard output that cannot panic, and how a run ends.
//!
//! `println!` panics when standard output fails (`> /dev/full`, a full disk, a closed pipe).
//! The examples print through [`Output`] instead: the first failure is kept, later lines are
//! skipped, and the run goes on, so the files it was asked for (`--metrics-out`, `--json`,
//! plots) are still written; [`Output::finish`] then returns the failure, and [`exit_code`]
//! turns any error into one line on stderr and exit code 1. [`main_with_args`] does the same
//! for clap's help and usage messages.
//!
//! Included by each example with `#[path = "common/mod.rs"] mod common;` (a folder without a
//! `main.rs` is not an example of its own).

use std::fmt::Display;
use std::process::ExitCode;

use clap::Parser;
use lazarus::train::{Error, console};

/// Standard output that remembers its first failure instead of panicking.
#[derive(Debug, Default)]
pub struct Output {
    failure: Option<Error>,
}

impl Output {
    /// Print `text` and a newline, unless an earlier line failed.
    pub fn line(&mut self, text: impl Display) {
        if self.failure.is_none() {
            self.failure = console::print_line(text).err();
        }
    }

    /// Whether a line failed: nothing more will be shown, so there is no use asking the
    /// trainer to print either.
    #[allow(
        dead_code,
        reason = "only the examples that train with progress output need it"
    )]
    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// `Ok`, or the first failure ([`Error::Output`]).
    pub fn finish(self) -> Result<(), Error> {
        self.failure.map_or(Ok(()), Err)
    }
}

/// Parse the command line into `A`, run `run` with it, and return [`exit_code`] of the result.
/// `--help`, `--version` and usage errors print as clap prints them (exit codes 0 and 2), except
/// that a failed print is exit code 1, not silence.
#[allow(dead_code, reason = "every example but xor has a command line")]
pub fn main_with_args<A: Parser, E: Display>(run: impl FnOnce(A) -> Result<(), E>) -> ExitCode {
    match A::try_parse() {
        Ok(args) => exit_code(run(args)),
        Err(e) => match e.print() {
            Ok(()) => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1)),
            Err(source) => exit_code(Err(Error::Output {
                stream: if e.use_stderr() { "stderr" } else { "stdout" },
                source,
            })),
        },
    }
}

/// The exit code of a run: 0 for `Ok`; for `Err`, `error: <message>` on stderr and 1 (if
/// stderr fails too, the exit code is all that is left to tell).
pub fn exit_code<E: Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = console::eprint_line(format_args!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}
