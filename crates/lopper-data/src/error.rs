//! The error type of `lopper-data`.
//!
//! Every error about a data file names the file and, where there is one, the 1-based line
//! of the offending row, and says what was expected there. Readers never panic on input.

use std::path::PathBuf;

use thiserror::Error;

/// Why a row could not be read: the parser's own error, or what the row lacks.
#[derive(Debug, Error)]
pub enum RowError {
    /// The CSV/TSV reader's error.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The JSON parser's error.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The line could not be read (invalid UTF-8, a failing disk).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The Parquet reader's error on a row.
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    /// A value that is not what the task needs.
    #[error("{0}")]
    Invalid(String),
}

/// Everything that can go wrong reading, encoding or scoring data.
#[derive(Debug, Error)]
pub enum DataError {
    /// A model folder without the tokenizer files lopper reads.
    #[error("{path}: {message}")]
    Tokenizer {
        /// The file or folder.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
    /// A tokenizer file the `tokenizers` library cannot load or configure.
    #[error("{path}: {source}")]
    TokenizerFile {
        /// The file or folder.
        path: PathBuf,
        /// What the tokenizer library said.
        source: tokenizers::Error,
    },
    /// Text that could not be encoded.
    #[error("cannot encode `{text}`: {source}")]
    Encode {
        /// The beginning of the text.
        text: String,
        /// What the tokenizer said.
        source: tokenizers::Error,
    },
    /// A data file that cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A row the CSV/TSV or JSON parser rejects (invalid UTF-8, bad quoting, invalid JSON),
    /// or a field that is not what the task needs.
    #[error("{path}:{line}: unreadable row: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// What the parser said, or what was expected.
        source: RowError,
    },
    /// A row with the wrong number of fields.
    #[error("{path}:{line}: malformed row: expected {expected} fields, found {found}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The number of fields of the header (or of the task's layout).
        expected: usize,
        /// The number of fields of this row.
        found: usize,
    },
    /// A column the task's layout (or the column mapping) needs is not there.
    #[error("{path}:{line}: missing column `{column}` (found: {found})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The 1-based line: the header's, or the row's for JSON lines.
        line: u64,
        /// The column that was expected.
        column: String,
        /// The columns that are there, comma-separated.
        found: String,
    },
    /// A label that is not one of the task's labels (or not a number, for regression).
    #[error("{path}:{line}: unknown label `{label}`: expected {expected}")]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the row.
        line: u64,
        /// The label as written.
        label: String,
        /// What the task accepts.
        expected: String,
    },
    /// A Parquet file that cannot be read (not Parquet, truncated, an unsupported codec).
    #[error("{path}: not a readable Parquet file: {source}")]
    ParquetFile {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        source: parquet::errors::ParquetError,
    },
    /// A Parquet row that cannot be read, or a field that is not what the task needs.
    #[error("{path}: row group {group}, row {row}: {source}")]
    ParquetRow {
        /// The file.
        path: PathBuf,
        /// The 0-based row group.
        group: usize,
        /// The 0-based row within the group.
        row: usize,
        /// What the reader said, or what was expected.
        source: RowError,
    },
    /// A column the mapping names that a Parquet file's schema lacks.
    #[error("{path}: missing column `{column}` (found: {found})")]
    MissingParquetColumn {
        /// The file.
        path: PathBuf,
        /// The column that was expected.
        column: String,
        /// The schema's top-level columns, comma-separated.
        found: String,
    },
    /// A hub dataset missing from the cache while `HF_HUB_OFFLINE` forbids downloading it.
    #[error(
        "hub dataset {id} is not in the hub cache {cache} and HF_HUB_OFFLINE is set, so it is \
         not downloaded"
    )]
    HubOffline {
        /// `ORG/NAME`.
        id: String,
        /// The cache folder looked in.
        cache: PathBuf,
    },
    /// A hub dataset that could not be listed or downloaded.
    #[error("hub dataset {id}: {source}")]
    Hub {
        /// `ORG/NAME`.
        id: String,
        /// What the hub client said.
        source: Box<hf_hub::api::sync::ApiError>,
    },
    /// A file without a single example.
    #[error("{path}: empty file: expected {expected}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was expected (a header and rows, rows, …).
        expected: String,
    },
    /// A split the task's layout does not have (e.g. IMDB has no unlabelled test file).
    #[error("task {task} has no {split} split")]
    NoSuchSplit {
        /// The task's name.
        task: String,
        /// The split asked for.
        split: String,
    },
    /// An option out of range (a batch size of 0, a train fraction outside (0, 1), …).
    #[error("invalid option: {0}")]
    Invalid(String),
    /// Predictions and labels that cannot be scored together.
    #[error("cannot compute {metric}: {message}")]
    Metric {
        /// The metric's name.
        metric: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_expectation() {
        let e = DataError::Malformed {
            path: "glue/RTE/dev.tsv".into(),
            line: 7,
            expected: 4,
            found: 3,
        };
        assert_eq!(
            e.to_string(),
            "glue/RTE/dev.tsv:7: malformed row: expected 4 fields, found 3"
        );
        let e = DataError::UnknownLabel {
            path: "x.tsv".into(),
            line: 2,
            label: "maybe".into(),
            expected: "one of entailment, not_entailment".into(),
        };
        assert!(e.to_string().starts_with("x.tsv:2: unknown label `maybe`"));
    }
}
