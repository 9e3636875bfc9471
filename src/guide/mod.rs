//! Prose guides with code that runs (every block is a doc test).
//!
//! * [`why_relu_units_die`]: the article this project grew from, made runnable: dead ReLU units,
//!   unbounded outputs and exploding gradients, and how Leaky ReLU, PReLU and ELU help, each
//!   claim shown by a few lines of lazarus.
//! * [`how_it_works`]: seven questions a learner asks (ReLU's derivative at 0, PReLU's alpha and
//!   the optimizer, one training step, dead vs inactive, clipping, checkpoint keys, Linear's
//!   backward), each answered from at most two files of the README's reading tour.
//! * [`pytorch_users`]: lazarus for people who know `torch.nn`: the names, the conventions that
//!   are the same (weight layout, defaults, `state_dict` keys) and the few that differ.

pub mod how_it_works;
pub mod pytorch_users;
pub mod why_relu_units_die;
