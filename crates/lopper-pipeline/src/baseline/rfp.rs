//! RFP, retraining-free pruning (Kwon et al., "A Fast Post-Training Pruning Framework for
//! Transformers", NeurIPS 2022), of a fine-tuned network: Fisher importance, mask search under
//! a parameter or MAC constraint, mask rearrangement, mask tuning; one member per budget.

use std::path::PathBuf;
use std::time::Instant;

use lopper_core::Subnet;
use lopper_model::{Batch, SuperNet};
use lopper_train::{
    Constraint, CostModel, KeepMasks, SkippedBlock, Targets, TuneSettings, fold_scales,
    mask_gradients, model_batch, rearrange, search_masks, tune_masks,
};
use serde::{Deserialize, Serialize};

use super::{
    BaselineRecord, BaselineSettings, FineTunedRun, PruningInput, PruningMethod, SampleSplit,
    claim_folder, write_baseline_front,
};
use crate::records::{FrontFile, FullNetwork, Record};
use crate::search::d_eval_batch_size;
use crate::{Checkpoint, Observers, PipelineError, Result, SearchDir, TrainDir};

/// What a budget of RFP counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    /// The paper's parameter count (embeddings included), as a fraction of the unpruned
    /// network's: the objective the fronts are drawn in.
    #[default]
    Params,
    /// Multiply-accumulates of the layers at a sequence length, as a fraction of the unpruned
    /// layers' (Kwon et al.'s FLOPs constraint).
    Macs,
}

fn d_budgets() -> Vec<f64> {
    vec![0.9, 0.8, 0.7, 0.6, 0.5]
}
fn d_sample() -> usize {
    2048
}
fn d_batch_size() -> usize {
    32
}
fn d_true() -> bool {
    true
}
fn d_damping() -> f64 {
    TuneSettings::default().damping
}
fn d_max_scale() -> f64 {
    TuneSettings::default().max_scale
}

/// How to run RFP on a fine-tuned checkpoint (a `standard` training run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct RfpSpec {
    /// Which checkpoint of the training run: best or last.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = Checkpoint::Best))]
    #[serde(default)]
    pub checkpoint: Checkpoint,
    /// What the budgets count: params (the paper's objective) or macs (Kwon et al.'s).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = ConstraintKind::Params))]
    #[serde(default)]
    pub constraint: ConstraintKind,
    /// The retained fractions, one pruned model each (comma-separated).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ',', default_values_t = d_budgets()))]
    #[serde(default = "d_budgets")]
    pub budgets: Vec<f64>,
    /// The sequence length MACs are counted at (default: the sample's mean, as Kwon et al.
    /// count at the task's average length).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub seq_len: Option<usize>,
    /// Training examples the Fisher and the mask tuning use (a seeded sample; Kwon et al.:
    /// 2,048).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_sample()))]
    #[serde(default = "d_sample")]
    pub sample: usize,
    /// Examples per gradient of the Fisher (each batch's squared gradient is one term) and per
    /// batch of the tuning.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_batch_size()))]
    #[serde(default = "d_batch_size")]
    pub batch_size: usize,
    /// The split the sample is drawn from: train (as Kwon et al.) or validation.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = SampleSplit::Train))]
    #[serde(default)]
    pub sample_split: SampleSplit,
    /// Seed of the sample.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub seed: u64,
    /// Skip the mask rearrangement.
    #[cfg_attr(feature = "clap", arg(long = "no-rearrange", action = clap::ArgAction::SetFalse))]
    #[serde(default = "d_true")]
    pub rearrange: bool,
    /// Skip the mask tuning (the members keep the fine-tuned weights).
    #[cfg_attr(feature = "clap", arg(long = "no-tune", action = clap::ArgAction::SetFalse))]
    #[serde(default = "d_true")]
    pub tune: bool,
    /// Damping of the least-squares solves, relative to the mean diagonal of the normal
    /// equations.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_damping()))]
    #[serde(default = "d_damping")]
    pub damping: f64,
    /// A block whose scale factors leave [-max-scale, max-scale] is not tuned (the original's
    /// 10).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_max_scale()))]
    #[serde(default = "d_max_scale")]
    pub max_scale: f64,
    /// Fit the last feed-forward block on every token, not only on the first one the task head
    /// reads.
    #[cfg_attr(feature = "clap", arg(long = "fit-all-tokens", action = clap::ArgAction::SetFalse))]
    #[serde(default = "d_true")]
    pub last_layer_first_token: bool,
    /// Examples per batch when scoring members.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_eval_batch_size()))]
    #[serde(default = "d_eval_batch_size")]
    pub eval_batch_size: usize,
}

impl Default for RfpSpec {
    fn default() -> Self {
        Self {
            checkpoint: Checkpoint::Best,
            constraint: ConstraintKind::Params,
            budgets: d_budgets(),
            seq_len: None,
            sample: d_sample(),
            batch_size: d_batch_size(),
            sample_split: SampleSplit::Train,
            seed: 0,
            rearrange: true,
            tune: true,
            damping: d_damping(),
            max_scale: d_max_scale(),
            last_layer_first_token: true,
            eval_batch_size: d_eval_batch_size(),
        }
    }
}

impl RfpSpec {
    fn check(&self) -> Result<()> {
        if self.budgets.is_empty() || self.budgets.iter().any(|b| !(*b > 0.0 && *b <= 1.0)) {
            return Err(PipelineError::setting(
                "budgets",
                "one or more retained fractions in (0, 1]",
            ));
        }
        if self.sample == 0 || self.batch_size == 0 || self.eval_batch_size == 0 {
            return Err(PipelineError::setting(
                "sample, batch_size, eval_batch_size",
                "at least 1",
            ));
        }
        if self.seq_len == Some(0) {
            return Err(PipelineError::setting("seq_len", "at least 1"));
        }
        if !(self.damping >= 0.0 && self.max_scale > 0.0) {
            return Err(PipelineError::setting(
                "damping, max_scale",
                "damping at least 0, max_scale above 0",
            ));
        }
        Ok(())
    }
}

/// Which step of RFP a row of the trace is after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RfpStepKind {
    /// The mask search.
    Search,
    /// The mask rearrangement.
    Rearrange,
    /// The mask tuning.
    Tune,
}

/// The pruned network after one step of RFP at one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfpStage {
    /// The step.
    pub step: RfpStepKind,
    /// How long it took (seconds).
    pub seconds: f64,
    /// Heads kept per layer.
    pub heads: Vec<usize>,
    /// Units kept per layer.
    pub units: Vec<usize>,
    /// What the kept heads and units cost, as a fraction of the unpruned network's, under the
    /// constraint.
    pub cost_fraction: f64,
    /// Every metric of the task on the test set (the official dev split in the paper
    /// protocol), when the protocol has one.
    pub test: Vec<(String, f64)>,
}

/// One budget of RFP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfpBudget {
    /// The retained fraction asked for.
    pub fraction: f64,
    /// After each step, in order (empty when not even what no mask removes fits).
    pub stages: Vec<RfpStage>,
    /// The blocks the tuning left at their 0/1 masks (their scale factors left the range).
    pub skipped: Vec<SkippedBlock>,
    /// The checkpoint with the tuned scale factors folded in (absent without tuning).
    pub model: Option<PathBuf>,
}

/// `rfp.json`: what RFP did at every budget, written as each budget finishes (a rerun skips
/// the budgets it holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfpTrace {
    /// The constraint, with the sequence length MACs are counted at.
    pub constraint: Constraint,
    /// Training examples in the sample.
    pub sample: usize,
    /// Their mean length in tokens.
    pub mean_tokens: f64,
    /// Seconds the Fisher took.
    pub fisher_seconds: f64,
    /// The budgets done.
    pub budgets: Vec<RfpBudget>,
}

impl Record for RfpTrace {}

/// The importance the masks are searched and rearranged on, kept so that a rerun needs no
/// backward pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FisherRecord {
    seconds: f64,
    mean_tokens: f64,
    heads: Vec<Vec<f64>>,
    units: Vec<Vec<f64>>,
    head_batches: Vec<Vec<Vec<f64>>>,
    unit_batches: Vec<Vec<Vec<f64>>>,
}

impl Record for FisherRecord {}

fn per_layer(m: &[Vec<bool>]) -> Vec<usize> {
    m.iter().map(|l| l.iter().filter(|&&k| k).count()).collect()
}

/// Kwon et al.'s retraining-free pruning of the network fine-tuned in `run`, into `dir`: the
/// empirical Fisher of every head and unit mask over a seeded sample of training (or, by the
/// setting, validation) examples;
/// per budget, the mask search, the rearrangement and the mask tuning (each step scored on the
/// test set in `rfp.json`); the tuned scale factors folded into a full-size checkpoint per
/// budget (`dir/members/<fraction>`), which the member names as its model. Writes
/// `front.json`, `front.csv`, `rfp.json`, `fisher.json` and `baseline.json`; a rerun skips
/// the budgets `rfp.json` holds.
pub fn rfp(
    spec: &RfpSpec,
    run: &TrainDir,
    dir: &SearchDir,
    observers: &dyn Observers,
) -> Result<FrontFile> {
    spec.check()?;
    let opened = FineTunedRun::open(run, spec.checkpoint)?;
    let plain = lopper_model::default_device();
    let auto = plain.clone().autodiff();
    let net = opened.load(&auto)?;
    let record = BaselineRecord {
        train_run: Some(crate::data::absolute(run.path())?),
        settings: BaselineSettings::Rfp(spec.clone()),
    };
    claim_folder(dir, &record)?;

    // The sample, batched for the gradients (autodiff) and for the tuning (plain).
    let encoded = opened.sample(spec.sample_split, spec.sample, spec.seed)?;
    let mut grad_batches: Vec<(Batch, Targets)> = Vec::new();
    let mut plain_batches: Vec<Batch> = Vec::new();
    let mut tokens = 0usize;
    for b in encoded.batches(spec.batch_size)? {
        let (batch, targets) = model_batch(&b, net.config(), &auto)?;
        let targets = targets.ok_or_else(|| lopper_train::TrainError::Unlabelled {
            task: opened.meta.task.to_string(),
            split: match spec.sample_split {
                SampleSplit::Train => "training",
                SampleSplit::Validation => "validation",
            },
        })?;
        tokens += batch
            .attention_mask
            .clone()
            .sum()
            .into_scalar::<f32>()
            .round() as usize;
        grad_batches.push((batch, targets));
    }
    // The tuning sums over tokens, whatever the batches: batched by length, so that little of
    // its forward passes is padding.
    let mut by_length: Vec<(usize, usize)> = (0..encoded.len())
        .map(|i| Ok((encoded.batch(&[i])?.seq_len(), i)))
        .collect::<Result<_>>()?;
    by_length.sort_unstable();
    let order: Vec<usize> = by_length.iter().map(|&(_, i)| i).collect();
    for chunk in order.chunks(spec.batch_size) {
        plain_batches.push(model_batch(&encoded.batch(chunk)?, net.config(), &plain)?.0);
    }
    let examples = encoded.len() * encoded.num_choices();
    let fisher_path = dir.path().join("fisher.json");
    let fisher = if fisher_path.is_file() {
        FisherRecord::read(&fisher_path)?
    } else {
        observers.message(&format!(
            "RFP: Fisher of {} heads and {} units on {} {} examples",
            net.config().num_layers * net.config().num_heads,
            net.config().num_layers * net.config().intermediate_size,
            encoded.len(),
            spec.sample_split
        ));
        let started = Instant::now();
        let c = net.config();
        let ones_h = vec![vec![1.0f32; c.num_heads]; c.num_layers];
        let ones_u = vec![vec![1.0f32; c.intermediate_size]; c.num_layers];
        let g = mask_gradients(&net, &grad_batches, &ones_h, &ones_u, encoded.num_choices())?;
        let f = FisherRecord {
            seconds: started.elapsed().as_secs_f64(),
            mean_tokens: tokens as f64 / examples.max(1) as f64,
            heads: g.heads_sq,
            units: g.units_sq,
            head_batches: g.head_batches,
            unit_batches: g.unit_batches,
        };
        f.write(&fisher_path)?;
        f
    };
    drop(grad_batches);
    let net = net.valid();
    let constraint = match spec.constraint {
        ConstraintKind::Params => Constraint::Params,
        ConstraintKind::Macs => Constraint::Macs {
            seq_len: spec
                .seq_len
                .unwrap_or_else(|| fisher.mean_tokens.round().max(1.0) as usize),
        },
    };
    let costs = CostModel::new(net.config(), constraint)?;
    let trace_path = dir.path().join("rfp.json");
    let mut trace = if trace_path.is_file() {
        RfpTrace::read(&trace_path)?
    } else {
        RfpTrace {
            constraint,
            sample: encoded.len(),
            mean_tokens: fisher.mean_tokens,
            fisher_seconds: fisher.seconds,
            budgets: Vec::new(),
        }
    };
    let scoring = opened.scoring(&net, spec.eval_batch_size)?;
    let arch = net.arch();
    let test_metrics = |n: &SuperNet, s: &Subnet| -> Result<Vec<(String, f64)>> {
        Ok(match scoring.test_scorer() {
            Some(t) => t.score(n, s)?.named_values(),
            None => Vec::new(),
        })
    };
    let stage = |step, seconds, masks: &KeepMasks, n: &SuperNet| -> Result<RfpStage> {
        let subnet = masks.subnet(&arch)?;
        let (h, u) = masks.counts();
        Ok(RfpStage {
            step,
            seconds,
            heads: per_layer(&masks.heads),
            units: per_layer(&masks.units),
            cost_fraction: costs.cost(h, u) / costs.full,
            test: test_metrics(n, &subnet)?,
        })
    };
    let settings = TuneSettings {
        damping: spec.damping,
        max_scale: spec.max_scale,
        last_layer_first_token: spec.last_layer_first_token,
    };
    let mut members = Vec::new();
    for (i, &fraction) in spec.budgets.iter().enumerate() {
        let name = format!("{fraction:.4}");
        let member_dir = dir.path().join("members").join(&name);
        let done = trace
            .budgets
            .iter()
            .find(|b| b.fraction == fraction)
            .cloned();
        let budget = match done {
            Some(b)
                if b.model
                    .as_ref()
                    .is_none_or(|m| m.join("config.json").is_file()) =>
            {
                b
            }
            _ => {
                let b = prune_one(
                    spec,
                    &net,
                    &fisher,
                    &costs,
                    fraction,
                    &plain_batches,
                    &settings,
                    &member_dir,
                    &opened.checkpoint,
                    &stage,
                    observers,
                )?;
                trace.budgets.retain(|x| x.fraction != fraction);
                trace.budgets.push(b.clone());
                trace.write(&trace_path)?;
                b
            }
        };
        observers.progress("RFP: budgets", i + 1, spec.budgets.len());
        let Some(last) = budget.stages.last() else {
            observers.message(&format!(
                "RFP: a retained fraction of {fraction} is below what no mask removes; no member"
            ));
            continue;
        };
        let masks = masks_of(&last.heads, &last.units, &budget, &fisher, spec, &costs)?;
        let subnet = masks.subnet(&arch)?;
        let member_net = match &budget.model {
            Some(m) => SuperNet::load(m, net.device(), 0)?.0,
            None => net.valid(),
        };
        let mut extra = serde_json::Map::new();
        extra.insert("budget".into(), fraction.into());
        extra.insert("cost_fraction".into(), last.cost_fraction.into());
        members.push(scoring.member(&member_net, i as u64, subnet, extra, budget.model.clone())?);
    }
    if members.is_empty() {
        return Err(PipelineError::setting(
            "budgets",
            "at least one budget above what no mask removes",
        ));
    }
    let full_subnet = Subnet::full(&arch);
    let full = scoring.member(&net, u64::MAX, full_subnet, serde_json::Map::new(), None)?;
    let full = FullNetwork::from(full);
    write_baseline_front(dir, scoring.objectives(), members, full, &record)
}

/// The masks a finished budget ended with, searched again (deterministic) and checked against
/// the counts its trace recorded.
fn masks_of(
    heads: &[usize],
    units: &[usize],
    budget: &RfpBudget,
    fisher: &FisherRecord,
    spec: &RfpSpec,
    costs: &CostModel,
) -> Result<KeepMasks> {
    let masks = final_masks(fisher, costs, budget.fraction, spec.rearrange).ok_or_else(|| {
        PipelineError::Record {
            what: "rfp.json",
            message: format!("budget {} no longer fits", budget.fraction),
        }
    })?;
    if per_layer(&masks.heads) != heads || per_layer(&masks.units) != units {
        return Err(PipelineError::Record {
            what: "rfp.json",
            message: format!(
                "budget {}: the recorded masks differ from the Fisher's; remove the folder",
                budget.fraction
            ),
        });
    }
    Ok(masks)
}

/// Search, then (when asked) rearrangement, of one budget.
fn final_masks(
    fisher: &FisherRecord,
    costs: &CostModel,
    fraction: f64,
    rearranged: bool,
) -> Option<KeepMasks> {
    let searched = search_masks(&fisher.heads, &fisher.units, costs, fraction)?;
    if !rearranged {
        return Some(searched);
    }
    Some(KeepMasks {
        heads: searched
            .heads
            .iter()
            .zip(&fisher.head_batches)
            .map(|(m, g)| rearrange(m, g))
            .collect(),
        units: searched
            .units
            .iter()
            .zip(&fisher.unit_batches)
            .map(|(m, g)| rearrange(m, g))
            .collect(),
    })
}

#[allow(clippy::too_many_arguments)]
fn prune_one(
    spec: &RfpSpec,
    net: &SuperNet,
    fisher: &FisherRecord,
    costs: &CostModel,
    fraction: f64,
    batches: &[Batch],
    settings: &TuneSettings,
    member_dir: &std::path::Path,
    checkpoint: &std::path::Path,
    stage: &dyn Fn(RfpStepKind, f64, &KeepMasks, &SuperNet) -> Result<RfpStage>,
    observers: &dyn Observers,
) -> Result<RfpBudget> {
    let mut stages = Vec::new();
    let started = Instant::now();
    let Some(searched) = search_masks(&fisher.heads, &fisher.units, costs, fraction) else {
        return Ok(RfpBudget {
            fraction,
            stages,
            skipped: Vec::new(),
            model: None,
        });
    };
    stages.push(stage(
        RfpStepKind::Search,
        started.elapsed().as_secs_f64(),
        &searched,
        net,
    )?);
    let masks = if spec.rearrange {
        let started = Instant::now();
        let masks = final_masks(fisher, costs, fraction, true).unwrap_or(searched);
        stages.push(stage(
            RfpStepKind::Rearrange,
            started.elapsed().as_secs_f64(),
            &masks,
            net,
        )?);
        masks
    } else {
        searched
    };
    if !spec.tune {
        return Ok(RfpBudget {
            fraction,
            stages,
            skipped: Vec::new(),
            model: None,
        });
    }
    let started = Instant::now();
    let layers = net.config().num_layers;
    let tuning = tune_masks(net, batches, &masks, settings, &mut |l| {
        observers.progress(&format!("RFP {fraction}: layers tuned"), l, layers)
    })?;
    let (h, u) = fold_scales(&tuning, &masks);
    let tuned = net.with_scales(&h, &u)?;
    let seconds = started.elapsed().as_secs_f64();
    stages.push(stage(RfpStepKind::Tune, seconds, &masks, &tuned)?);
    for s in &tuning.skipped {
        observers.message(&format!(
            "RFP {fraction}: layer {} {:?} block not tuned: {}",
            s.layer, s.block, s.reason
        ));
    }
    lopper_model::save(&tuned, member_dir, Some(checkpoint))?;
    Ok(RfpBudget {
        fraction,
        stages,
        skipped: tuning.skipped,
        model: Some(crate::data::absolute(member_dir)?),
    })
}

impl PruningMethod for RfpSpec {
    fn name(&self) -> &'static str {
        "rfp"
    }

    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile> {
        rfp(self, input.fine_tuned("rfp")?, dir, observers)
    }
}

register_method!(
    RfpSpec,
    "rfp",
    "Kwon et al.'s retraining-free pruning of a fine-tuned network: Fisher, mask search, rearrangement, least-squares mask tuning"
);
