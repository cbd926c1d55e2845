//! The error type of `lopper-train`.

use thiserror::Error;

/// Everything that can stop training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// From the model (bad batches, sub-networks that do not fit).
    #[error(transparent)]
    Model(#[from] lopper_model::ModelError),
    /// From the vocabulary (spaces, sub-networks).
    #[error(transparent)]
    Core(#[from] lopper_core::CoreError),
    /// Settings that cannot work.
    #[error("invalid training settings: {0}")]
    Settings(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
