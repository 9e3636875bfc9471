//! lazarus-train (filled in by its issue).
#![warn(missing_docs)]

pub mod data;
mod error;
pub use error::{Error, Result};
