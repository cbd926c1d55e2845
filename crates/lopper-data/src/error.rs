//! The error type of `lopper-data`.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong reading or encoding data.
#[derive(Debug, Error)]
pub enum DataError {
    /// A tokenizer file is missing or unreadable.
    #[error("{path}: {message}")]
    Tokenizer {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Text that could not be encoded.
    #[error("cannot encode `{text}`: {message}")]
    Encode {
        /// The beginning of the text.
        text: String,
        /// What the tokenizer said.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
