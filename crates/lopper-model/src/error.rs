//! The error type of `lopper-model`.

use std::path::PathBuf;

use lopper_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong loading, running or exporting an encoder.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// `config.json` is missing a field, has a bad value or describes an unsupported model.
    #[error("{path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A weight file is not a readable safetensors file.
    #[error("{path}: not a readable safetensors file: {message}")]
    Weights {
        /// The weight file.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// A tensor the model needs is not in the checkpoint.
    #[error("tensor `{name}` is missing from {path} (looked for: {tried})")]
    MissingTensor {
        /// The tensor (without prefix).
        name: String,
        /// The weight file(s).
        path: PathBuf,
        /// Every name tried (prefixes, legacy names).
        tried: String,
    },
    /// A tensor has another shape than the config implies.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The tensor.
        name: String,
        /// What the config implies.
        expected: Vec<usize>,
        /// What the file holds.
        found: Vec<usize>,
    },
    /// A tensor of a type the loader does not convert.
    #[error("tensor `{name}` has dtype {dtype}; F32, F16 and BF16 are supported")]
    DType {
        /// The tensor.
        name: String,
        /// Its type.
        dtype: String,
    },
    /// A sub-network that does not fit the model, or another vocabulary error.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Inputs of the wrong shape or content.
    #[error("bad input: {0}")]
    Input(String),
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
