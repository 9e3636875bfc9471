//! Prose guides with code that runs (every block is a doc test).
//!
//! * [`why_relu_units_die`]: the article this project grew from, made runnable: dead ReLU units,
//!   unbounded outputs and exploding gradients, and how Leaky ReLU, PReLU and ELU help, each
//!   claim shown by a few lines of lazarus.
//! * [`pytorch_users`]: lazarus for people who know `torch.nn`: the names, the conventions that
//!   are the same (weight layout, defaults, `state_dict` keys) and the few that differ.

pub mod pytorch_users;
pub mod why_relu_units_die;
