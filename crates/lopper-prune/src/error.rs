//! The error type of `lopper-prune`.

use thiserror::Error;

/// Everything that can go wrong measuring sub-networks.
#[derive(Debug, Error)]
pub enum PruneError {
    /// From the model.
    #[error(transparent)]
    Model(#[from] lopper_model::ModelError),
    /// From scoring (the task's metric).
    #[error(transparent)]
    Train(#[from] lopper_train::TrainError),
    /// From the vocabulary (spaces, sub-networks, plugin lookup).
    #[error(transparent)]
    Core(#[from] lopper_core::CoreError),
    /// An objective that cannot be built as asked.
    #[error("objective `{name}`: {message}")]
    Objective {
        /// The objective.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl PruneError {
    pub(crate) fn objective(name: &str, message: impl std::fmt::Display) -> Self {
        Self::Objective {
            name: name.to_string(),
            message: message.to_string(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = PruneError> = std::result::Result<T, E>;
