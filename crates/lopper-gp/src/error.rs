//! The error type of `lopper-gp`.

use thiserror::Error;

/// What can go wrong when building or fitting a Gaussian process.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GpError {
    /// Training inputs or targets of the wrong shape, empty, or not finite.
    #[error("invalid training data: {0}")]
    InvalidData(String),
    /// Fit options out of range.
    #[error("invalid Gaussian-process options: {0}")]
    InvalidOptions(String),
    /// The kernel matrix could not be factorised even after adding jitter.
    #[error(
        "the kernel matrix of {points} points is not positive definite even with jitter \
         {jitter:e} on its diagonal (hyper-parameters {hyper:?}); check the training data for \
         extreme values"
    )]
    NotPositiveDefinite {
        /// Number of training points.
        points: usize,
        /// The largest jitter tried (in standardised units).
        jitter: f64,
        /// The log hyper-parameters that failed.
        hyper: Vec<f64>,
    },
    /// Every start of the hyper-parameter fit failed.
    #[error("hyper-parameter fit failed from every start: {0}")]
    Fit(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = GpError> = std::result::Result<T, E>;
