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
    /// A file or folder of the run that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record of the run (settings, checkpoint state) that does not parse or serialise.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// Burn's store could not read or write a checkpoint's tensors (its errors carry no
    /// source, only a description).
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A folder that holds a run with other settings.
    #[error("{} holds a run with other settings; use another folder or the same settings", dir.display())]
    OtherRun {
        /// The run folder.
        dir: PathBuf,
    },
    /// A strategy name that is not one.
    #[error(transparent)]
    UnknownStrategy(#[from] crate::strategy::UnknownStrategy),
    /// The loss stopped being a finite number: the run diverged.
    #[error(
        "the loss is {loss} at step {step} (1-based): training diverged; try a lower learning rate (the last checkpoint is kept)"
    )]
    Diverged {
        /// The 1-based step whose loss was not finite.
        step: usize,
        /// The loss.
        loss: f64,
    },
    /// A split that training or scoring needs labels of has an unlabelled example.
    #[error("the {task} {split} split has unlabelled examples")]
    Unlabelled {
        /// The task.
        task: String,
        /// Which split (`training`, `scored`).
        split: &'static str,
    },
    /// Logits that cannot be read back from the device.
    #[error("cannot read the logits: {0}")]
    Logits(String),
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

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn json(path: &Path, source: serde_json::Error) -> Self {
        Self::Json {
            path: path.to_path_buf(),
            source,
        }
    }
}
