//! The error type of `lopper-problems`.

use lopper_core::CoreError;
use lopper_pareto::ParetoError;
use thiserror::Error;

/// Everything that can go wrong building or scoring a test problem.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ProblemError {
    /// [`problem_by_name`](crate::problem_by_name) does not know the name.
    #[error("unknown problem `{name}`; known problems: {}", known.join(", "))]
    UnknownProblem {
        /// The name asked for.
        name: String,
        /// Every known name.
        known: Vec<String>,
    },
    /// A problem argument that makes no sense (no variables, one objective for DTLZ2, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A dimension of the problem's space is invalid.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A hypervolume computation rejected its input.
    #[error("hypervolume: {0}")]
    Pareto(#[from] ParetoError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = ProblemError> = std::result::Result<T, E>;
