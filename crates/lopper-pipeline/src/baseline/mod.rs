//! The pruning methods of Klein et al.'s comparison behind one trait, [`PruningMethod`]: each
//! turns a task, a model and its own budget into a front in the format `lopper search` writes
//! (validation error, parameter fraction, test error, the sub-network, and where a method
//! changed weights, the member's own checkpoint), so that select, export, eval and the report
//! take it unchanged. Methods register by name ([`PruningPlugin`], through `inventory`, as
//! optimizers do), so a new one plugs in without touching this crate.
//!
//! | name | method | prunes |
//! |---|---|---|
//! | `hp` | [`HeadPruningSpec`]: Michel et al. 2019 | a fine-tuned run |
//! | `rfp` | [`RfpSpec`]: Kwon et al. 2022, retraining-free | a fine-tuned run |
//! | `ld` | [`LayerDroppingSpec`]: Sajjad et al. 2022 | the pre-trained model, fine-tuned per member |
//! | `snas` | [`SnasSpec`]: standard NAS with MO-ASHA | the pre-trained model, fine-tuned per trial |
//! | `ws-nas` | [`WsNas`]: the paper's train + search | the pre-trained model |

/// Registers a method whose specification type is the method: `build` parses its settings.
macro_rules! register_method {
    ($spec:ty, $name:literal, $summary:literal) => {
        fn build(
            settings: &toml::Table,
        ) -> $crate::Result<Box<dyn $crate::baseline::PruningMethod>> {
            Ok(Box::new($crate::baseline::parse_method_settings::<$spec>(
                $name, settings,
            )?))
        }

        inventory::submit! {
            $crate::baseline::PruningPlugin { name: $name, summary: $summary, build }
        }
    };
}

mod hp;
mod ld;
mod rfp;
mod snas;

use std::path::PathBuf;
use std::sync::Arc;

use lopper_core::{Objective, Subnet, seeded_rng};
use lopper_data::{EncodedDataset, Splits, TextTokenizer};
use lopper_model::SuperNet;
use lopper_prune::{ObjectiveSpec, SubnetObjective, measure_subnet};
use lopper_train::Scorer;
use rand::seq::SliceRandom;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use hp::{HeadPruningSpec, head_pruning};
pub use ld::{LayerDroppingSpec, bottom_layers, layer_dropping};
pub use rfp::{ConstraintKind, RfpBudget, RfpSpec, RfpStage, RfpStepKind, RfpTrace, rfp};
pub use snas::{SnasSpec, standard_nas};

use crate::data::read_splits;
use crate::records::{FrontFile, FrontMember, FullNetwork, Record, TrainMeta};
use crate::search::{error_on, read_train_run, test_scorer, validation_context, write_front_csv};
use crate::{
    Checkpoint, Observers, PipelineError, Result, SearchDir, SearchSpec, TrainDir, TrainSpec,
};

/// What a pruning method is given; each takes what it needs and refuses to run without it.
#[derive(Debug, Clone, Default)]
pub struct PruningInput {
    /// A finished `standard` fine-tuning (what HP and RFP prune): its task, data, split and
    /// checkpoints.
    pub fine_tuned: Option<TrainDir>,
    /// The task, its data and split, the pre-trained model and the fine-tuning settings (what
    /// WS-NAS, LD and S-NAS fine-tune with).
    pub train: Option<TrainSpec>,
}

impl PruningInput {
    /// The fine-tuned run, or the error naming the method that needs one.
    pub fn fine_tuned(&self, method: &'static str) -> Result<&TrainDir> {
        self.fine_tuned.as_ref().ok_or(PipelineError::Setting {
            setting: "fine_tuned",
            expected: format!(
                "{method} prunes a fine-tuned network: give a `standard` training run"
            ),
        })
    }

    /// The fine-tuning settings, or the error naming the method that needs them.
    pub fn train(&self, method: &'static str) -> Result<&TrainSpec> {
        self.train.as_ref().ok_or(PipelineError::Setting {
            setting: "train",
            expected: format!(
                "{method} fine-tunes the pre-trained model: give its training settings"
            ),
        })
    }
}

/// A way to prune a model into a front. `prune` writes `front.json` and `front.csv` (and the
/// method's own trace) into `dir`, resumes what `dir` already holds, and returns the front.
pub trait PruningMethod: Send + Sync {
    /// The name it is registered under.
    fn name(&self) -> &'static str;
    /// Runs it.
    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile>;
}

/// The descriptor a method's crate submits with `inventory::submit!`: its name, one line
/// saying what it does, and how to build it from its settings (a TOML table, e.g. a pipeline
/// file's `[baseline]`; empty for the defaults).
pub struct PruningPlugin {
    /// The name users select it by.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Builds it.
    pub build: fn(&toml::Table) -> Result<Box<dyn PruningMethod>>,
}

inventory::collect!(PruningPlugin);

/// Every linked pruning method, by name.
pub fn pruning_methods() -> Vec<&'static PruningPlugin> {
    let mut all: Vec<_> = inventory::iter::<PruningPlugin>.into_iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name));
    all
}

/// Builds the method registered as `name` with `settings`.
pub fn build_pruning_method(name: &str, settings: &toml::Table) -> Result<Box<dyn PruningMethod>> {
    let all = pruning_methods();
    let plugin = lopper_core::find_plugin("pruning method", &all, name, |p| p.name)?;
    (plugin.build)(settings)
}

/// Parses a method's settings table into its specification (what a [`PruningPlugin`]'s
/// `build` does): unknown or ill-typed keys are an error naming the method.
pub fn parse_method_settings<T: DeserializeOwned>(
    method: &'static str,
    settings: &toml::Table,
) -> Result<T> {
    toml::Value::Table(settings.clone())
        .try_into()
        .map_err(|source| PipelineError::MethodSettings {
            method,
            source: Box::new(source),
        })
}

/// The settings of the built-in baselines, as `baseline.json` records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum BaselineSettings {
    /// Head pruning.
    Hp(HeadPruningSpec),
    /// Retraining-free pruning.
    Rfp(RfpSpec),
    /// Layer dropping, with the fine-tuning settings.
    Ld {
        /// Its settings (the drops made explicit).
        spec: LayerDroppingSpec,
        /// How every member was fine-tuned.
        train: Box<TrainSpec>,
    },
    /// Standard NAS, with the fine-tuning settings.
    Snas {
        /// Its settings.
        spec: SnasSpec,
        /// How every trial was fine-tuned.
        train: Box<TrainSpec>,
    },
}

/// `baseline.json`: which baseline made a front, from which training run, with which settings
/// (the sample's seed among them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRecord {
    /// The fine-tuned run it pruned (absolute), for the methods that prune one.
    #[serde(default)]
    pub train_run: Option<PathBuf>,
    /// The method and its settings.
    pub settings: BaselineSettings,
}

impl Record for BaselineRecord {}

/// Writes `record` as `dir`'s `baseline.json`, refusing a folder that holds a run of other
/// settings (a rerun with the same ones resumes it).
pub(crate) fn claim_folder(dir: &SearchDir, record: &BaselineRecord) -> Result<()> {
    std::fs::create_dir_all(dir.path()).map_err(|e| PipelineError::io(dir.path(), e))?;
    let path = dir.baseline();
    if path.is_file() && BaselineRecord::read(&path)? != *record {
        return Err(PipelineError::Record {
            what: "baseline.json",
            message: format!(
                "{} holds a baseline run with other settings; use another folder",
                dir.path().display()
            ),
        });
    }
    record.write(&path)
}

/// `subnet` of the best checkpoint of fine-tuning run `run`, measured as the search measures
/// (the member naming that checkpoint as its model when `own_model`), and the objectives.
pub(crate) fn member_of_run(
    run: &TrainDir,
    id: u64,
    subnet: Subnet,
    extra: serde_json::Map<String, serde_json::Value>,
    own_model: bool,
    batch_size: usize,
) -> Result<(FrontMember, Vec<Objective>)> {
    let opened = FineTunedRun::open(run, Checkpoint::Best)?;
    let net = opened.load(&lopper_model::default_device())?;
    let scoring = opened.scoring(&net, batch_size)?;
    let model = if own_model {
        Some(crate::data::absolute(&opened.checkpoint)?)
    } else {
        None
    };
    let member = scoring.member(&net, id, subnet, extra, model)?;
    Ok((member, scoring.objectives()))
}

/// Which split of a fine-tuned run the gradient-based methods (HP's importance, RFP's Fisher
/// and mask tuning) draw their sample from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum SampleSplit {
    /// The training split (what the network was fine-tuned on), as Kwon et al. draw RFP's
    /// sample and Michel et al. compute head importance.
    #[default]
    Train,
    /// The validation split (held out from the fine-tuning; the error objective is measured
    /// on it too, so the members' validation errors are then no longer held out).
    Validation,
}

impl std::fmt::Display for SampleSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SampleSplit::Train => "train",
            SampleSplit::Validation => "validation",
        })
    }
}

/// A fine-tuned run opened for pruning: its record, checkpoint, splits and tokenizer.
pub(crate) struct FineTunedRun {
    pub(crate) meta: TrainMeta,
    pub(crate) checkpoint: PathBuf,
    pub(crate) splits: Splits,
    pub(crate) tokenizer: TextTokenizer,
}

impl FineTunedRun {
    pub(crate) fn open(run: &TrainDir, which: Checkpoint) -> Result<Self> {
        let record = read_train_run(run)?;
        let meta = record.meta;
        let checkpoint = run.checkpoint(which);
        let splits = read_splits(&meta.task, &meta.data, &meta.split.protocol()?)?;
        let tokenizer = TextTokenizer::from_dir(&checkpoint, meta.max_len)?;
        Ok(Self {
            meta,
            checkpoint,
            splits,
            tokenizer,
        })
    }

    /// Loads the checkpoint on `device`, refusing one without a trained task head.
    pub(crate) fn load(&self, device: &burn::tensor::Device) -> Result<SuperNet> {
        let (net, report) = SuperNet::load(&self.checkpoint, device, 0)?;
        if !report.initialized.is_empty() {
            return Err(PipelineError::NoTaskHead {
                dir: self.checkpoint.clone(),
                missing: report.initialized.join(", "),
            });
        }
        Ok(net)
    }

    /// A seeded sample of `n` examples of the run's `split` (as the run trained or validated
    /// on it: its limits applied; all of them when there are fewer), encoded.
    pub(crate) fn sample(&self, split: SampleSplit, n: usize, seed: u64) -> Result<EncodedDataset> {
        let (mut set, limit) = match split {
            SampleSplit::Train => (self.splits.train.clone(), self.meta.split.train_limit),
            SampleSplit::Validation => (
                self.splits.validation.clone(),
                self.meta.split.validation_limit,
            ),
        };
        if let Some(limit) = limit {
            set.examples.truncate(limit);
        }
        set.examples.shuffle(&mut seeded_rng(seed));
        set.examples.truncate(n);
        Ok(EncodedDataset::new(&set, &self.tokenizer)?)
    }

    /// How members are scored, as the search scores its trials: validation error and
    /// parameter fraction, and the test error where the protocol has a test set.
    pub(crate) fn scoring(&self, net: &SuperNet, batch_size: usize) -> Result<Scoring> {
        let (ctx, _) = validation_context(
            &self.splits,
            self.meta.split.validation_limit,
            &self.tokenizer,
            &self.meta,
            net.config(),
            net.device(),
            batch_size,
        )?;
        let objectives = vec![
            ObjectiveSpec::named("error").build(&ctx)?,
            ObjectiveSpec::named("params").build(&ctx)?,
        ];
        let test = test_scorer(
            &self.splits,
            &self.meta,
            &self.tokenizer,
            net.config(),
            net.device(),
            batch_size,
        )?
        .map(|scorer| Ok::<_, PipelineError>((scorer.clone(), error_on(scorer, &ctx)?)))
        .transpose()?;
        Ok(Scoring { objectives, test })
    }
}

/// The search's objectives and test error, for a baseline's members.
pub(crate) struct Scoring {
    objectives: Vec<Box<dyn SubnetObjective>>,
    /// The test set's scorer and the error objective on it (one encoding of the test set).
    test: Option<(Arc<Scorer>, Box<dyn SubnetObjective>)>,
}

impl Scoring {
    /// What the front's `objectives` are.
    /// The test set's scorer (every metric of the task), when the protocol has a test set.
    pub(crate) fn test_scorer(&self) -> Option<&Scorer> {
        self.test.as_ref().map(|(s, _)| s.as_ref())
    }

    pub(crate) fn objectives(&self) -> Vec<Objective> {
        self.objectives.iter().map(|o| o.objective()).collect()
    }

    /// `subnet` of `net` measured as a search measures a trial (values and the trial log's
    /// information, with `extra` merged in), and on the test set.
    pub(crate) fn member(
        &self,
        net: &SuperNet,
        id: u64,
        subnet: Subnet,
        extra: serde_json::Map<String, serde_json::Value>,
        model: Option<PathBuf>,
    ) -> Result<FrontMember> {
        let measured = measure_subnet(&self.objectives, net, &subnet)?;
        let mut info = match measured.info {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        info.extend(extra);
        let test_error = match &self.test {
            Some((_, o)) => Some(o.measure(net, &subnet)?.value),
            None => None,
        };
        Ok(FrontMember {
            id,
            point: None,
            summary: subnet.to_string(),
            values: measured.values,
            test_error,
            info: serde_json::Value::Object(info),
            subnet,
            model,
        })
    }
}

/// Writes a baseline's front (members by ascending first objective), `front.csv` and
/// `baseline.json` into `dir`.
pub(crate) fn write_baseline_front(
    dir: &SearchDir,
    objectives: Vec<Objective>,
    mut members: Vec<FrontMember>,
    full: FullNetwork,
    record: &BaselineRecord,
) -> Result<FrontFile> {
    members.sort_by(|a, b| a.values[0].total_cmp(&b.values[0]).then(a.id.cmp(&b.id)));
    let front = FrontFile {
        reference_point: Some(vec![1.0; objectives.len()]),
        objectives,
        front: members,
        full,
    };
    std::fs::create_dir_all(dir.path()).map_err(|e| PipelineError::io(dir.path(), e))?;
    record.write(&dir.baseline())?;
    write_front_csv(&front, &dir.front_csv())?;
    front.write(&dir.front())?;
    Ok(front)
}

/// WS-NAS, the paper's own method, reachable as a pruning method: fine-tune the pre-trained
/// model as a super-network (`dir/supernet`) and search it (`dir` itself holds the search).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WsNas {
    /// How to search.
    #[serde(default)]
    pub search: Option<SearchSpec>,
}

impl PruningMethod for WsNas {
    fn name(&self) -> &'static str {
        "ws-nas"
    }

    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile> {
        let spec = input.train("ws-nas")?;
        let run = TrainDir::new(dir.path().join("supernet"));
        // A finished super-network is kept (the search resumes on its own).
        if !run.summary().is_file() {
            crate::train(spec, &run, observers)?;
        }
        let search = self.search.clone().unwrap_or_default();
        Ok(crate::search(&search, &run, dir, observers)?.front)
    }
}

fn build_ws_nas(settings: &toml::Table) -> Result<Box<dyn PruningMethod>> {
    Ok(Box::new(parse_method_settings::<WsNas>(
        "ws-nas", settings,
    )?))
}

inventory::submit! {
    PruningPlugin {
        name: "ws-nas",
        summary: "the paper's weight-sharing NAS: fine-tune a super-network, search it",
        build: build_ws_nas,
    }
}
