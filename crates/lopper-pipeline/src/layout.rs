//! Where each stage writes: the run folder's paths, named once.
//!
//! | path | what |
//! |---|---|
//! | `pipeline.toml` | the pipeline file the run was started with |
//! | `train/` | a [`TrainDir`]: the super-network's fine-tuning |
//! | `search/` | a [`SearchDir`]: the search and its front |
//! | `selected.json` | the chosen member of the front ([`FrontMember`](crate::FrontMember)) |
//! | `export/` | the dense pruned model |
//! | `eval.json` | its figures ([`EvalRecord`](crate::EvalRecord)) |
//! | `report.md`, `report.html` | the report |

use std::path::{Path, PathBuf};

/// A fine-tuning run's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainDir(PathBuf);

impl TrainDir {
    /// The folder at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// `train.json`: the settings and what was trained on ([`TrainRecord`](crate::TrainRecord)).
    pub fn record(&self) -> PathBuf {
        self.0.join("train.json")
    }
    /// `summary.json`, written last: the run is complete ([`TrainSummary`](crate::TrainSummary)).
    pub fn summary(&self) -> PathBuf {
        self.0.join("summary.json")
    }
    /// `metrics.jsonl`: a line per step and per validation.
    pub fn metrics(&self) -> PathBuf {
        self.0.join("metrics.jsonl")
    }
    /// `rewiring.json`: the order heads and units were rewired in.
    pub fn rewiring(&self) -> PathBuf {
        self.0.join("rewiring.json")
    }
    /// `test.json`: the best checkpoint's test scores.
    pub fn test(&self) -> PathBuf {
        self.0.join("test.json")
    }
    /// A checkpoint's folder (`best/`, `last/`).
    pub fn checkpoint(&self, which: Checkpoint) -> PathBuf {
        self.0.join(which.as_str())
    }
}

/// Which checkpoint of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checkpoint {
    /// The epoch whose full network validated best.
    #[default]
    Best,
    /// The latest.
    Last,
}

impl Checkpoint {
    /// Its folder's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Checkpoint::Best => "best",
            Checkpoint::Last => "last",
        }
    }
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Checkpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "best" => Ok(Checkpoint::Best),
            "last" => Ok(Checkpoint::Last),
            other => Err(format!("`{other}`: expected best or last")),
        }
    }
}

/// A search's folder: the search's own memory (`search.db`, kept by
/// [`lopper_search::RunStore`]; read its trials with [`lopper_search::read_trials`]) beside
/// the front and its plots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDir(PathBuf);

impl SearchDir {
    /// The folder at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }
    /// The folder (also the search's run store).
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// The files the search's memory lives in (the database and its write-ahead log, or the
    /// trial log of a folder of an earlier version), for telling whether what was made from
    /// them is older.
    pub fn store_files(&self) -> Vec<PathBuf> {
        let db = lopper_search::RUN_DB;
        vec![
            self.0.join(db),
            self.0.join(format!("{db}-wal")),
            self.0.join("trials.jsonl"),
        ]
    }
    /// Every finished trial of the search, in id order.
    pub fn trials(&self) -> lopper_search::Result<Vec<lopper_search::TrialRecord>> {
        lopper_search::read_trials(&self.0)
    }
    /// `front.json` ([`FrontFile`](crate::FrontFile)).
    pub fn front(&self) -> PathBuf {
        self.0.join("front.json")
    }
    /// `front.csv`: the same front as a table.
    pub fn front_csv(&self) -> PathBuf {
        self.0.join("front.csv")
    }
    /// `baseline.json`: what a baseline was run with ([`BaselineRecord`](crate::BaselineRecord)).
    pub fn baseline(&self) -> PathBuf {
        self.0.join("baseline.json")
    }
    /// `hypervolume.csv`: the hypervolume after each evaluation.
    pub fn hypervolume(&self) -> PathBuf {
        self.0.join("hypervolume.csv")
    }
    /// `plots/`.
    pub fn plots(&self) -> PathBuf {
        self.0.join("plots")
    }
}

/// A pipeline's run folder (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout(PathBuf);

impl RunLayout {
    /// The run folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self(root.into())
    }
    /// The folder.
    pub fn root(&self) -> &Path {
        &self.0
    }
    /// `pipeline.toml`.
    pub fn config(&self) -> PathBuf {
        self.0.join("pipeline.toml")
    }
    /// `train/`.
    pub fn train(&self) -> TrainDir {
        TrainDir::new(self.0.join("train"))
    }
    /// `search/`.
    pub fn search(&self) -> SearchDir {
        SearchDir::new(self.0.join("search"))
    }
    /// `selected.json`.
    pub fn selected(&self) -> PathBuf {
        self.0.join("selected.json")
    }
    /// `export/`.
    pub fn export(&self) -> PathBuf {
        self.0.join("export")
    }
    /// `eval.json`.
    pub fn eval(&self) -> PathBuf {
        self.0.join("eval.json")
    }
}
