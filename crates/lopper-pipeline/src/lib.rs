//! # lopper-pipeline
//!
//! The stages of Klein et al.'s method as a library: one typed specification and one function
//! per stage, typed records between them (each with one reader and one writer,
//! [`Record`]), the run folder's layout named once ([`RunLayout`]), and the whole pipeline
//! ([`Pipeline`]) with its skipping of finished stages, resumption and report.
//!
//! | stage | function | takes | returns | writes |
//! |---|---|---|---|---|
//! | fine-tune | [`train`] | [`TrainSpec`] | [`TrainOutcome`] | a [`TrainDir`] |
//! | search | [`search`] | [`SearchSpec`], a [`TrainDir`] | [`SearchOutcome`] | a [`SearchDir`] |
//! | select | [`select`] | a [`FrontFile`], a [`Budget`] | a [`FrontMember`] | — |
//! | export | [`export()`] | a model, a [`Subnet`](lopper_core::Subnet) | [`Exported`] | a model folder |
//! | evaluate | [`evaluate`] | a model, a [`DataSpec`], an [`EvalSpec`] | an [`EvalRecord`] | — |
//! | a baseline | a [`PruningMethod`] (by name: [`build_pruning_method`]) | a [`PruningInput`] | a [`FrontFile`] | a [`SearchDir`] |
//!
//! Progress goes to [`Observers`] the caller installs ([`Silent`] for none; with the
//! `progress` feature, `Bars` draws progress bars).

mod baseline;
mod data;
mod embed;
mod error;
mod export;
mod layout;
mod observe;
mod pipeline;
#[cfg(feature = "progress")]
mod progress;
mod records;
mod report;
mod search;
mod select;
mod train;

pub use baseline::{
    BaselineRecord, BaselineSettings, ConstraintKind, HeadPruningSpec, LayerDroppingSpec,
    PruningInput, PruningMethod, PruningPlugin, RfpBudget, RfpSpec, RfpStage, RfpStepKind,
    RfpTrace, SampleSplit, SnasSpec, WsNas, bottom_layers, build_pruning_method, head_pruning,
    layer_dropping, parse_method_settings, pruning_methods, rfp, standard_nas,
};
pub use data::DataSpec;
pub use embed::Embedder;
pub use error::{PipelineError, Result};
pub use export::{EvalSpec, ExportFormat, Exported, evaluate, export};
pub use layout::{Checkpoint, RunLayout, SearchDir, TrainDir};
pub use observe::{Observers, Silent};
pub use pipeline::{
    BaselineStage, ExportSpec, Pipeline, PipelineConfig, PipelineOutcome, Stage, StagePlan,
};
#[cfg(feature = "progress")]
pub use progress::{Bars, FitProgress, SearchProgress};
pub use records::{
    BestEpoch, EvalRecord, EvalSet, FrontFile, FrontMember, FullNetwork, LatencyFigures, Record,
    RewiringRecord, SplitMeta, TestScore, TestScores, TrainMeta, TrainRecord, TrainSummary,
    UnprunedFigures,
};
pub use report::{search_plots, write_report};
pub use search::{
    Distributed, SearchOutcome, SearchSpec, SearchTask, StudyTask, front_csv, read_hypervolume,
    read_train_run, search, search_with, search_worker, write_hypervolume,
};
pub use select::{Budget, select};
/// A pruning method's settings: a TOML table (a pipeline file's `[baseline]`, or parsed from
/// text with `str::parse`), what a [`PruningPlugin`] builds its method from.
pub use toml::Table as MethodSettings;
pub use train::{TrainOutcome, TrainSpec, defaults, task_config, train, train_subnet};
