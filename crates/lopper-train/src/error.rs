//! The error type of `lopper-train`.

use std::path::{Path, PathBuf};

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
    /// From the data layer (files, tokenizer, metrics).
    #[error(transparent)]
    Data(#[from] lopper_data::DataError),
    /// A checkpoint or log that cannot be written or read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Settings that cannot work.
    #[error("invalid training settings: {0}")]
    Settings(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

impl TrainError {
    pub(crate) fn checkpoint(path: &Path, message: impl std::fmt::Display) -> Self {
        Self::Checkpoint {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}
