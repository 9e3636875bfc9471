//! Helpers shared by the tests of this crate: `data` (scratch folders, IDX files, gzip) and
//! `buffers` (a layer with buffers, a safetensors file rewriter for the checkpoint tests), `html`
//! (a report page as an element tree).
#![allow(dead_code)] // each test file uses a different part
#![allow(unused_imports)]

mod buffers;
mod data;
mod html;

pub use buffers::*;
pub use data::*;
pub use html::*;
