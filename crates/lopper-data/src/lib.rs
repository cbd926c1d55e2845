//! # lopper-data
//!
//! Tasks and their data for lopper:
//!
//! - readers for the GLUE tasks in the TSV layout of the GLUE download ([`GlueTask`]), IMDB
//!   ([`read_imdb`]), SWAG ([`read_swag`]) and your own CSV/TSV/JSON-lines/Parquet files
//!   ([`GenericReader`]; a classification or regression task on them: [`OwnTask`], from a
//!   folder or a hub dataset, [`resolve_data`]), producing a [`Dataset`] of [`Example`]s of a
//!   [`Task`];
//! - the paper's train/validation/test protocol, or plain train/dev ([`Protocol`]);
//! - tokenisation with a checkpoint's own tokenizer ([`TextTokenizer`]) and dynamically
//!   padded, seeded-shuffled batches ([`EncodedDataset`], [`Batch`]);
//! - metrics as scikit-learn and SciPy compute them ([`metrics`], [`evaluate`]).
//!
//! Malformed input is a typed [`DataError`] naming the file, the line and what was expected.

mod batch;
mod error;
mod generic;
mod glue;
mod hub;
mod imdb;
pub mod metrics;
mod movies;
mod own;
mod source;
mod split;
mod swag;
mod table;
mod task;
mod tokenize;

pub use batch::{Batch, BatchLabels, Batches, EncodedDataset};
pub use error::{DataError, Result, RowError};
pub use generic::{Columns, Format, GenericReader};
pub use glue::GlueTask;
pub use hub::{HubDataset, is_hub_data, resolve_data};
pub use imdb::{imdb_path, imdb_task, read_imdb, read_imdb_file};
pub use metrics::{Evaluation, Metric, Predictions, evaluate};
pub use movies::{MOVIE_REVIEWS_FILE, movie_reviews_path, movie_reviews_task, read_movie_reviews};
pub use own::{OwnFiles, OwnKind, OwnTask, TestSplit};
pub use source::TaskSource;
pub use split::{PaperProtocol, Protocol, ProtocolKind, SplitRecord, Splits, permutation};
pub use swag::{SWAG_CHOICES, read_swag, read_swag_file, swag_path, swag_task};
pub use task::{Dataset, Example, Label, Split, Task, TaskKind};
pub use tokenize::{DEFAULT_MAX_LEN, Encoded, TextTokenizer};
