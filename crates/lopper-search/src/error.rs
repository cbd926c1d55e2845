//! The error type of `lopper-search`.

use std::path::PathBuf;

use lopper_core::CoreError;
use thiserror::Error;

/// Everything that can stop a search.
#[derive(Debug, Error)]
pub enum SearchError {
    /// From the vocabulary: bad points, optimizer bookkeeping, plugins.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// From the Pareto toolkit.
    #[error(transparent)]
    Pareto(#[from] lopper_pareto::ParetoError),
    /// Reading or writing the run folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file of the run folder is not what this version writes.
    #[error("{path}:{line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 for the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The run folder belongs to a search with other settings.
    #[error("cannot resume {path}: {message}")]
    Resume {
        /// The run folder.
        path: PathBuf,
        /// What differs.
        message: String,
    },
    /// The evaluator failed on a trial.
    #[error("evaluation of trial {trial} failed: {message}")]
    Evaluation {
        /// The trial.
        trial: u64,
        /// What the evaluator said.
        message: String,
    },
    /// The search was set up wrongly.
    #[error("invalid search settings: {0}")]
    Settings(String),
    /// The trial store's database failed.
    #[error("{store}: {source}")]
    Store {
        /// The store (a password in its URL hidden).
        store: String,
        /// What the driver said.
        source: crate::db::DbError,
    },
    /// The study in a trial store cannot be used as asked (missing, held by another
    /// coordinator, unreadable).
    #[error("{0}")]
    Study(String),
}

impl SearchError {
    pub(crate) fn store(url: &crate::db::StoreUrl, source: crate::db::DbError) -> Self {
        SearchError::Store {
            store: url.to_string(),
            source,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SearchError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;
