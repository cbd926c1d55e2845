//! # lopper-testkit
//!
//! Everything needed to test a lopper optimizer without a language model:
//!
//! - The multi-objective test problems of `lopper-problems` (ZDT1–3, DTLZ2), re-exported:
//!   [`Problem`], [`problem_by_name`], [`Zdt`], [`Dtlz2`].
//! - [`drive`]: a sequential ask/tell loop returning a [`Trace`] of every evaluation and the
//!   hypervolume after each.
//! - [`conformance`]: the checks every optimizer plugin runs from its tests — valid asks,
//!   rejected bad tells, exact checkpoint round trips, determinism, and beating random
//!   search on ZDT1.
//! - [`assets`]: the real checkpoint and data the integration tests use.
//! - [`stores`]: the trial stores (SQLite, PostgreSQL) the store tests run on.
//!
//! The optimizers under test are those of Klein et al., "Structural Pruning of Pre-trained
//! Language Models via Neural Architecture Search" (arXiv 2405.02267); every objective they
//! see is minimised.

pub mod assets;
pub mod conformance;
mod drive;
mod error;
pub mod stores;

pub use drive::{Trace, drive};
pub use error::{Result, TestkitError};
pub use lopper_problems::{
    Dtlz2, KnownFront, PROBLEM_NAMES, Problem, ProblemError, Zdt, ZdtKind, problem_by_name,
};
