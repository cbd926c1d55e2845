//! The error type of `lopper-testkit`.

use lopper_core::CoreError;
use lopper_pareto::ParetoError;
use lopper_problems::ProblemError;
use thiserror::Error;

/// Everything that can go wrong while building a test problem, driving an optimizer or
/// running a conformance check.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TestkitError {
    /// A test problem could not be built or scored.
    #[error(transparent)]
    Problem(#[from] ProblemError),
    /// A driver argument that makes no sense (batch size 0, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The optimizer (or the vocabulary) reported an error.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A hypervolume computation rejected its input.
    #[error("hypervolume: {0}")]
    Pareto(#[from] ParetoError),
    /// An optimizer broke the contract a conformance check tests.
    #[error("conformance check `{check}` failed for optimizer `{optimizer}`: {message}")]
    Conformance {
        /// The check (`valid_asks`, `rejects_bad_tells`, …).
        check: &'static str,
        /// The plugin name.
        optimizer: String,
        /// What went wrong.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = TestkitError> = std::result::Result<T, E>;
