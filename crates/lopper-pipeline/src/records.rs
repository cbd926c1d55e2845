//! The records stages hand each other, as serde types with one reader and one writer each
//! ([`Record::read`], [`Record::write`]). Unknown fields are refused and required fields must
//! be there, so a file from another tool or another version is a clear error, never a silent
//! default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lopper_core::{Objective, Point, Subnet};
use lopper_data::{PaperProtocol, Protocol, ProtocolKind, TaskSource};
use lopper_space::{Sampler, SpaceConfig, SpaceKind};
use lopper_train::{FitSettings, ValidationRecord};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{PipelineError, Result};

/// A JSON file of the run folder: read and written here only.
pub trait Record: Serialize + DeserializeOwned {
    /// Reads the record at `path`.
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| PipelineError::json(path, e))
    }

    /// Writes it to `path` whole or not at all (pretty JSON and a final newline).
    fn write(&self, path: &Path) -> Result<()> {
        let mut text =
            serde_json::to_string_pretty(self).map_err(|e| PipelineError::json(path, e))?;
        text.push('\n');
        lopper_core::fs::write_atomic(path, text.as_bytes()).map_err(|e| PipelineError::io(path, e))
    }
}

/// A required field that may be `null`: serde would take a missing `Option` as `None`.
fn required<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::deserialize(d)
}

/// What a training run trained on, recorded in `train.json` beside the trainer's settings:
/// all that a search of the run needs to rebuild its validation and test sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainMeta {
    /// The task.
    pub task: TaskSource,
    /// Its data folder, absolute (so a run is found from any working directory).
    pub data: PathBuf,
    /// The pre-trained model as given: an absolute folder or a hub id.
    pub model: String,
    /// The space whose sub-networks were trained.
    pub space: SpaceKind,
    /// How LAYER and LARGE drew sub-networks.
    pub sampler: Sampler,
    /// How the splits were made.
    pub split: SplitMeta,
    /// Inputs truncated to this many tokens.
    pub max_len: usize,
    /// Rewired on this many training examples, or not rewired.
    #[serde(deserialize_with = "required")]
    pub rewire: Option<usize>,
    /// The one sub-network fine-tuned ([`train_subnet`](crate::train_subnet): layer dropping,
    /// standard NAS); absent for a super-network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<lopper_core::Subnet>,
    /// The backend it trained on.
    pub backend: String,
}

impl TrainMeta {
    /// The space, with its sampler.
    pub fn space_config(&self) -> SpaceConfig {
        SpaceConfig {
            kind: self.space,
            sampler: self.sampler,
        }
    }
}

/// How the splits of a run were made: the protocol, its seed, and the limits applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitMeta {
    /// Which protocol.
    pub protocol: ProtocolKind,
    /// The paper protocol's shuffle seed.
    #[serde(deserialize_with = "required")]
    pub seed: Option<u64>,
    /// The paper protocol's train share.
    #[serde(deserialize_with = "required")]
    pub train_fraction: Option<f64>,
    /// The paper protocol's validation cap.
    #[serde(deserialize_with = "required")]
    pub validation_cap: Option<usize>,
    /// Size of the official train split.
    pub official_train: usize,
    /// Size of the official dev split.
    pub official_dev: usize,
    /// Validation examples left out by the cap.
    pub validation_dropped: usize,
    /// Trained on the first N training examples only.
    #[serde(deserialize_with = "required")]
    pub train_limit: Option<usize>,
    /// Validated on the first N validation examples only.
    #[serde(deserialize_with = "required")]
    pub validation_limit: Option<usize>,
    /// Tested on the first N test examples only.
    #[serde(deserialize_with = "required")]
    pub test_limit: Option<usize>,
}

impl SplitMeta {
    /// The protocol that made the split, to make it again.
    pub fn protocol(&self) -> Result<Protocol> {
        match self.protocol {
            ProtocolKind::Plain => Ok(Protocol::Plain),
            ProtocolKind::Paper => {
                let seed = self.seed.ok_or(PipelineError::Record {
                    what: "train.json",
                    message: "the paper protocol's split has no seed".into(),
                })?;
                let mut p = PaperProtocol::new(seed).with_validation_cap(self.validation_cap);
                if let Some(f) = self.train_fraction {
                    p = p.with_train_fraction(f);
                }
                Ok(Protocol::Paper(p))
            }
        }
    }
}

/// `train.json`: the trainer's settings and [`TrainMeta`].
pub type TrainRecord = FitSettings<TrainMeta>;

impl Record for TrainRecord {}

/// The best epoch of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Its full network's validation score.
    pub score: f64,
}

/// One member's score on the test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestScore {
    /// Test examples scored.
    pub examples: usize,
    /// The sub-network (its display).
    pub subnet: String,
    /// The task's metric.
    pub metric: String,
    /// Its value.
    pub score: f64,
    /// Every metric computed.
    pub values: Vec<(String, f64)>,
}

/// `test.json`: the best checkpoint's test scores by member (`largest`, `smallest`).
pub type TestScores = BTreeMap<String, TestScore>;

impl Record for TestScores {}

/// `summary.json`, written last: a training run that finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSummary {
    /// Whether every planned step was taken.
    pub finished: bool,
    /// Whether it continued a checkpoint.
    pub resumed: bool,
    /// Optimizer steps taken.
    pub steps: usize,
    /// Training seconds over all sessions.
    pub train_seconds: f64,
    /// Training examples per second.
    pub examples_per_second: f64,
    /// The best epoch.
    #[serde(deserialize_with = "required")]
    pub best: Option<BestEpoch>,
    /// Validations, in order.
    pub history: Vec<ValidationRecord>,
    /// The test scores, under a protocol with a test set.
    #[serde(deserialize_with = "required")]
    pub test: Option<TestScores>,
}

impl Record for TrainSummary {}

/// `rewiring.json`: the order a run's heads and units were rewired in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewiringRecord {
    /// Training examples weighed.
    pub examples: usize,
    /// Their tokens.
    pub tokens: usize,
    /// The order.
    pub order: lopper_model::Rewiring,
    /// The importances it came from.
    pub importance: lopper_model::Importance,
}

impl Record for RewiringRecord {}

/// A member of a search's front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMember {
    /// The trial that found it.
    pub id: u64,
    /// Its point in the search space; `null` for a baseline's member, which no search space
    /// drew.
    #[serde(deserialize_with = "required")]
    pub point: Option<Point>,
    /// The sub-network.
    pub subnet: Subnet,
    /// Its display (`6 layers, …`).
    pub summary: String,
    /// Validation values, one per objective of the front.
    pub values: Vec<f64>,
    /// Its error on the test set, where the protocol has one.
    #[serde(deserialize_with = "required")]
    pub test_error: Option<f64>,
    /// What the objectives logged (parameter counts, latency spread, metrics).
    #[serde(default)]
    pub info: serde_json::Value,
    /// The checkpoint (an absolute folder, full size) that holds this member's own weights,
    /// when a method changed them (RFP's folded scale factors, LD's and S-NAS's fine-tuning):
    /// its sub-network is cut from there. Absent: from the network the front was made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<std::path::PathBuf>,
}

impl Record for FrontMember {}

impl FrontMember {
    /// The model this member is cut from: its own checkpoint, or `base` (the network the
    /// front was made of).
    pub fn model_or(&self, base: &str) -> String {
        match &self.model {
            Some(m) => m.display().to_string(),
            None => base.to_string(),
        }
    }
}

/// The unpruned network's values, beside a front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullNetwork {
    /// Its display.
    pub summary: String,
    /// Validation values, one per objective.
    pub values: Vec<f64>,
    /// Its test error, where the protocol has a test set.
    #[serde(deserialize_with = "required")]
    pub test_error: Option<f64>,
}

impl From<FrontMember> for FullNetwork {
    /// The unpruned network's entry, from its measurement as a member.
    fn from(m: FrontMember) -> Self {
        Self {
            summary: m.summary,
            values: m.values,
            test_error: m.test_error,
        }
    }
}

/// `front.json`: the Pareto front of a search (each sub-network once), scored on the test set
/// too, and the unpruned network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontFile {
    /// The objectives, in the order of every `values`.
    pub objectives: Vec<Objective>,
    /// The hypervolume's reference point.
    #[serde(deserialize_with = "required")]
    pub reference_point: Option<Vec<f64>>,
    /// The members, by ascending first objective.
    pub front: Vec<FrontMember>,
    /// The unpruned network.
    pub full: FullNetwork,
}

impl Record for FrontFile {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        let front: FrontFile =
            serde_json::from_str(&text).map_err(|e| PipelineError::json(path, e))?;
        front.check().map_err(|message| PipelineError::Record {
            what: "front.json",
            message: format!("{}: {message}", path.display()),
        })?;
        Ok(front)
    }
}

impl FrontFile {
    /// The column of objective `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.objectives.iter().position(|o| o.name == name)
    }

    fn check(&self) -> std::result::Result<(), String> {
        let n = self.objectives.len();
        if self.front.is_empty() {
            return Err("the front is empty".into());
        }
        if let Some(m) = self.front.iter().find(|m| m.values.len() != n) {
            return Err(format!(
                "member {} has {} values for {n} objectives",
                m.id,
                m.values.len()
            ));
        }
        if self.full.values.len() != n {
            return Err(format!(
                "the unpruned network has {} values for {n} objectives",
                self.full.values.len()
            ));
        }
        Ok(())
    }
}

/// Latency figures of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyFigures {
    /// Median milliseconds.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Tokens per sequence.
    pub seq_len: usize,
}

/// Which set an evaluation scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSet {
    /// The training set the protocol makes.
    Train,
    /// The validation set (the search's).
    Validation,
    /// The test set (the official dev split under the paper's protocol).
    #[default]
    Test,
}

impl std::fmt::Display for EvalSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EvalSet::Train => "train",
            EvalSet::Validation => "validation",
            EvalSet::Test => "test",
        })
    }
}

impl std::str::FromStr for EvalSet {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "train" => Ok(EvalSet::Train),
            "validation" => Ok(EvalSet::Validation),
            "test" => Ok(EvalSet::Test),
            other => Err(format!("`{other}`: expected train, validation or test")),
        }
    }
}

/// `eval.json`: a model's figures on a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalRecord {
    /// The model's folder.
    pub model: PathBuf,
    /// The sub-network scored, when the model is a super-network.
    #[serde(deserialize_with = "required")]
    pub subnet: Option<String>,
    /// The task.
    pub task: TaskSource,
    /// The set.
    pub set: EvalSet,
    /// Examples scored.
    pub examples: usize,
    /// The task's metric.
    pub metric: String,
    /// Its value.
    pub score: f64,
    /// Every metric computed.
    pub values: Vec<(String, f64)>,
    /// Parameters of the dense model.
    pub params: u64,
    /// The unpruned model's, for a sub-network of a super-network.
    #[serde(deserialize_with = "required")]
    pub full_params: Option<u64>,
    /// `params / full_params`.
    #[serde(deserialize_with = "required")]
    pub params_fraction: Option<f64>,
    /// Latency.
    pub latency_ms: LatencyFigures,
    /// The unpruned network's figures beside it, when a pipeline evaluated a pruned export.
    #[serde(deserialize_with = "required")]
    pub unpruned: Option<UnprunedFigures>,
}

impl Record for EvalRecord {}

/// The unpruned network's figures, for the comparison a report leads with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnprunedFigures {
    /// Its parameters.
    pub params: u64,
    /// Its score on the same set (the training run's test score of the full network).
    #[serde(deserialize_with = "required")]
    pub score: Option<f64>,
    /// Its latency, timed with the same settings.
    pub latency_ms: LatencyFigures,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn meta() -> TrainMeta {
        TrainMeta {
            task: "rte".parse().unwrap(),
            data: "/data/glue".into(),
            model: "sentence-transformers/all-MiniLM-L6-v2".into(),
            space: SpaceKind::Small,
            sampler: Sampler::Uniform,
            split: SplitMeta {
                protocol: ProtocolKind::Paper,
                seed: Some(3),
                train_fraction: Some(0.7),
                validation_cap: Some(2048),
                official_train: 10,
                official_dev: 5,
                validation_dropped: 0,
                train_limit: None,
                validation_limit: Some(4),
                test_limit: None,
            },
            max_len: 64,
            rewire: None,
            subnet: None,
            backend: "flex".into(),
        }
    }

    #[test]
    fn train_meta_round_trips_and_refuses_unknown_or_missing_fields() {
        let m = meta();
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<TrainMeta>(&text).unwrap(), m);
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["colour"] = "blue".into();
        let e = serde_json::from_value::<TrainMeta>(v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `colour`"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["split"].as_object_mut().unwrap().remove("seed");
        let e = serde_json::from_value::<TrainMeta>(v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `seed`"), "{e}");
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["sampler"] = "gaussian".into();
        assert!(serde_json::from_value::<TrainMeta>(v).is_err());
        match meta().split.protocol().unwrap() {
            Protocol::Paper(p) => assert_eq!((p.seed, p.validation_cap), (3, Some(2048))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_front_file_is_checked_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("front.json");
        let arch = lopper_core::Arch {
            num_layers: 2,
            num_heads: 2,
            head_dim: 4,
            hidden_size: 8,
            intermediate_size: 4,
            vocab_size: 10,
            max_positions: 16,
            type_vocab_size: 2,
        };
        let full = Subnet::full(&arch);
        let mut front = FrontFile {
            objectives: vec![
                Objective::minimize("error", "fraction"),
                Objective::minimize("params", "fraction"),
            ],
            reference_point: Some(vec![1.0, 1.0]),
            front: vec![FrontMember {
                id: 7,
                point: Some(Point(vec![2])),
                subnet: full.clone(),
                summary: full.to_string(),
                values: vec![0.2, 1.0],
                test_error: None,
                info: serde_json::Value::Null,
                model: None,
            }],
            full: FullNetwork {
                summary: full.to_string(),
                values: vec![0.2, 1.0],
                test_error: None,
            },
        };
        front.write(&path).unwrap();
        assert_eq!(FrontFile::read(&path).unwrap(), front);
        assert_eq!(front.column("params"), Some(1));
        front.front[0].values.pop();
        front.write(&path).unwrap();
        let e = FrontFile::read(&path).unwrap_err().to_string();
        assert!(e.contains("member 7 has 1 values for 2 objectives"), "{e}");
    }
}
