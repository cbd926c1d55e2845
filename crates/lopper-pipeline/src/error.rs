//! The error type of `lopper-pipeline`.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Everything that can stop a stage.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// From training.
    #[error(transparent)]
    Train(#[from] lopper_train::TrainError),
    /// From the model (loading, slicing, exporting).
    #[error(transparent)]
    Model(#[from] lopper_model::ModelError),
    /// From the data layer.
    #[error(transparent)]
    Data(#[from] lopper_data::DataError),
    /// From the vocabulary (spaces, sub-networks, plugins by name).
    #[error(transparent)]
    Core(#[from] lopper_core::CoreError),
    /// From the objectives.
    #[error(transparent)]
    Prune(#[from] lopper_prune::PruneError),
    /// From the search runner.
    #[error(transparent)]
    Search(#[from] lopper_search::SearchError),
    /// From the Pareto toolkit.
    #[error(transparent)]
    Pareto(#[from] lopper_pareto::ParetoError),
    /// From the plots and the report.
    #[error(transparent)]
    Report(#[from] lopper_report::ReportError),
    /// A file or folder that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record that does not parse (or serialise).
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A pipeline file that does not parse.
    #[error("{}: {source}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// Why (the table, the key and what was expected).
        source: Box<toml::de::Error>,
    },
    /// A CSV file that cannot be written.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        source: csv::Error,
    },
    /// A record whose content does not hold together.
    #[error("{what}: {message}")]
    Record {
        /// Which record.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A folder that is neither a search folder nor a pipeline's run folder.
    #[error("{}: not a lopper run folder (it has no front.json, no train/ and no search/)", dir.display())]
    NotARun {
        /// The folder.
        dir: PathBuf,
    },
    /// A folder that is not a training run.
    #[error("{} is not a `lopper train` run ({} is missing)", dir.display(), missing.display())]
    NotATrainRun {
        /// The folder.
        dir: PathBuf,
        /// The file it lacks.
        missing: PathBuf,
    },
    /// A setting out of its range.
    #[error("{setting}: {expected}")]
    Setting {
        /// The setting.
        setting: &'static str,
        /// What it must be.
        expected: String,
    },
    /// A run folder rewired otherwise than asked.
    #[error("{} holds a run rewired otherwise; use another folder or the same settings", dir.display())]
    OtherRewiring {
        /// The run folder.
        dir: PathBuf,
    },
    /// A front without an objective a budget names.
    #[error("the front has no `{name}` objective (it has {have})")]
    NoObjective {
        /// The objective asked for.
        name: String,
        /// Those it has.
        have: String,
    },
    /// A selection without a budget.
    #[error("give a budget: max_params, max_latency_ms, max_macs or max_error_increase")]
    NoBudget,
    /// No member of the front fits the budget.
    #[error("no member of the front ({members} sub-networks) fits the budget")]
    NothingFits {
        /// Members of the front.
        members: usize,
    },
    /// The test set of a protocol that has none.
    #[error("the plain protocol has no test set: score the validation set")]
    NoTestSet,
    /// A model without a trained task head.
    #[error("{} has no trained task head ({missing} missing): evaluate a fine-tuned checkpoint", dir.display())]
    NoTaskHead {
        /// The model folder.
        dir: PathBuf,
        /// The tensors that were initialised instead.
        missing: String,
    },
    /// A pruning method's settings that do not parse.
    #[error("settings of the pruning method `{method}`: {source}")]
    MethodSettings {
        /// The method.
        method: &'static str,
        /// Why (the key and what was expected).
        source: Box<toml::de::Error>,
    },
    /// A sub-network of an exported model.
    #[error("{} is an exported model; it runs whole (no sub-network)", dir.display())]
    Exported {
        /// The model folder.
        dir: PathBuf,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

impl PipelineError {
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

    pub(crate) fn setting(setting: &'static str, expected: impl Into<String>) -> Self {
        Self::Setting {
            setting,
            expected: expected.into(),
        }
    }
}
