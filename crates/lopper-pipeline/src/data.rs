//! Which data a stage reads: a task, its folder and how its official splits are divided.

use std::path::{Path, PathBuf};

use lopper_data::{PaperProtocol, Protocol, ProtocolKind, Splits, TaskSource};
use serde::{Deserialize, Serialize};

use crate::{PipelineError, Result};

/// A task's data and its protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// The task (as for `lopper train`).
    #[cfg_attr(feature = "clap", arg(long))]
    pub task: TaskSource,
    /// Its data: the GLUE root or the task's folder; for your own task (classification,
    /// regression) a file, a folder of train/validation/test files, or a hub dataset
    /// `hf:ORG/NAME[:CONFIG]`.
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub data: PathBuf,
    /// How the official splits become train / validation / test: paper or plain.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = ProtocolKind::Paper))]
    #[serde(default = "paper")]
    pub protocol: ProtocolKind,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub split_seed: u64,
}

fn paper() -> ProtocolKind {
    ProtocolKind::Paper
}

impl DataSpec {
    /// The paper's protocol with split seed 0 on `task` in folder `data`.
    pub fn new(task: TaskSource, data: impl Into<PathBuf>) -> Self {
        Self {
            task,
            data: data.into(),
            protocol: ProtocolKind::Paper,
            split_seed: 0,
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        match self.protocol {
            ProtocolKind::Plain => Protocol::Plain,
            ProtocolKind::Paper => Protocol::Paper(PaperProtocol::new(self.split_seed)),
        }
    }

    /// Reads the task and makes its sets.
    pub fn splits(&self) -> Result<Splits> {
        read_splits(&self.task, &self.data, &self.protocol())
    }
}

/// Reads `task` from `data` and divides it by `protocol`.
pub(crate) fn read_splits(task: &TaskSource, data: &Path, protocol: &Protocol) -> Result<Splits> {
    // A named task reads a folder; your own task a file, a folder or a hub dataset (its
    // reader names what is missing).
    if task.own().is_none() && !data.is_dir() {
        return Err(PipelineError::io(
            data,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        ));
    }
    Ok(task.splits(data, protocol)?)
}

/// A data path made absolute against the working directory (it need not exist); a hub
/// dataset (`hf:…`) as it is.
pub(crate) fn absolute_data(path: &Path) -> Result<PathBuf> {
    if lopper_data::is_hub_data(path) {
        Ok(path.to_path_buf())
    } else {
        absolute(path)
    }
}

/// `path` made absolute against the working directory (it need not exist).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| PipelineError::io(path, e))
}
