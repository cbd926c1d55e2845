//! HP, head pruning (Michel et al., "Are Sixteen Heads Really Better than One?", 2019), of a
//! fine-tuned network, without retraining.

use lopper_core::{LayerKeep, Subnet};
use lopper_train::{model_batch, prune_heads_iteratively};
use serde::{Deserialize, Serialize};

use super::{
    BaselineRecord, BaselineSettings, FineTunedRun, PruningInput, PruningMethod, SampleSplit,
    member_of_run, write_baseline_front,
};
use crate::records::{FrontFile, FullNetwork};
use crate::search::d_eval_batch_size;
use crate::{Checkpoint, Observers, PipelineError, Result, SearchDir, TrainDir, TrainSpec};

fn d_fraction() -> f64 {
    0.1
}
fn d_sample() -> usize {
    512
}
fn d_batch_size() -> usize {
    16
}

/// How to run head pruning on a fine-tuned checkpoint (a `standard` training run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct HeadPruningSpec {
    /// Which checkpoint of the training run: best or last.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = Checkpoint::Best))]
    #[serde(default)]
    pub checkpoint: Checkpoint,
    /// The share of the remaining heads removed per step (the paper: 10 %).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_fraction()))]
    #[serde(default = "d_fraction")]
    pub fraction: f64,
    /// Training examples the importance is computed on (a seeded sample).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_sample()))]
    #[serde(default = "d_sample")]
    pub sample: usize,
    /// Examples per backward pass of the importance.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_batch_size()))]
    #[serde(default = "d_batch_size")]
    pub batch_size: usize,
    /// The split the sample is drawn from: train (as Michel et al.) or validation.
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = SampleSplit::Train))]
    #[serde(default)]
    pub sample_split: SampleSplit,
    /// Seed of the sample.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub seed: u64,
    /// Fine-tune each pruned step for this many epochs, as the training run was fine-tuned
    /// (`members/step-<i>/`, each step its own model); 0, the default, prunes without
    /// retraining, as Michel et al. do.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub fine_tune_epochs: usize,
    /// Examples per batch when scoring members.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_eval_batch_size()))]
    #[serde(default = "d_eval_batch_size")]
    pub eval_batch_size: usize,
}

impl Default for HeadPruningSpec {
    fn default() -> Self {
        Self {
            checkpoint: Checkpoint::Best,
            fraction: d_fraction(),
            sample: d_sample(),
            batch_size: d_batch_size(),
            sample_split: SampleSplit::Train,
            seed: 0,
            fine_tune_epochs: 0,
            eval_batch_size: d_eval_batch_size(),
        }
    }
}

/// Michel et al.'s head pruning of the network fine-tuned in `run`, into `dir`: head
/// importance from the gradients of the loss with respect to head masks on a seeded sample of
/// training examples, normalised per layer; the least important `fraction` of the remaining
/// heads masked, the importance recomputed, until no head is left. No retraining by default,
/// as in the paper. Every step is a member of the front (validation error and parameter fraction, and
/// the test error where the protocol has a test set); writes `front.json` and `front.csv`.
/// With `fine_tune_epochs`, every pruned step is fine-tuned after pruning (resumable: a step
/// whose run is complete is kept).
pub fn head_pruning(
    spec: &HeadPruningSpec,
    run: &TrainDir,
    dir: &SearchDir,
    observers: &dyn Observers,
) -> Result<FrontFile> {
    if !(spec.fraction > 0.0 && spec.fraction < 1.0) {
        return Err(PipelineError::setting(
            "fraction",
            "a share of the remaining heads in (0, 1)",
        ));
    }
    if spec.sample == 0 || spec.batch_size == 0 || spec.eval_batch_size == 0 {
        return Err(PipelineError::setting(
            "sample, batch_size, eval_batch_size",
            "at least 1",
        ));
    }
    let opened = FineTunedRun::open(run, spec.checkpoint)?;
    let record_of_run = crate::read_train_run(run)?;
    let plain = lopper_model::default_device();
    let auto = plain.clone().autodiff();
    let net = opened.load(&auto)?;

    // The importance sample: seeded, from the chosen split.
    let encoded = opened.sample(spec.sample_split, spec.sample, spec.seed)?;
    let mut batches = Vec::new();
    for b in encoded.batches(spec.batch_size)? {
        let (batch, targets) = model_batch(&b, net.config(), &auto)?;
        let targets = targets.ok_or_else(|| lopper_train::TrainError::Unlabelled {
            task: opened.meta.task.to_string(),
            split: match spec.sample_split {
                SampleSplit::Train => "training",
                SampleSplit::Validation => "validation",
            },
        })?;
        batches.push((batch, targets));
    }
    observers.message(&format!(
        "head pruning {} ({} heads) on {} {} examples, {} % of the remaining heads per step",
        opened.checkpoint.display(),
        net.config().num_layers * net.config().num_heads,
        encoded.len(),
        spec.sample_split,
        spec.fraction * 100.0
    ));
    let total = net.config().num_layers * net.config().num_heads;
    let steps = prune_heads_iteratively(
        &net,
        &batches,
        spec.fraction,
        encoded.num_choices(),
        &mut |_, left| observers.progress("HP: heads removed", total - left, total),
    )?;

    // Score every step as the search scores its trials.
    let net = net.valid();
    let scoring = opened.scoring(&net, spec.eval_batch_size)?;
    let arch = net.arch();
    let units: Vec<usize> = (0..arch.intermediate_size).collect();
    let mut members = Vec::with_capacity(steps.len());
    for (i, heads) in steps.iter().enumerate() {
        let layers = heads
            .iter()
            .map(|h| {
                Some(LayerKeep {
                    heads: h.clone(),
                    units: units.clone(),
                })
            })
            .collect();
        let subnet = Subnet::new(&arch, layers)?;
        let mut extra = serde_json::Map::new();
        extra.insert("step".into(), i.into());
        let member = if spec.fine_tune_epochs > 0 && i > 0 {
            // Fine-tuned after pruning: its own run, its best checkpoint the member's model.
            let step_run = TrainDir::new(dir.path().join("members").join(format!("step-{i}")));
            if !step_run.summary().is_file() {
                observers.message(&format!(
                    "HP: fine-tuning step {i} ({}) for {} epochs → {}",
                    subnet,
                    spec.fine_tune_epochs,
                    step_run.path().display()
                ));
                let train = TrainSpec::continuing(
                    &record_of_run,
                    &opened.checkpoint,
                    spec.fine_tune_epochs,
                );
                crate::train_subnet(&train, &subnet, &step_run, None, observers)?;
            }
            member_of_run(
                &step_run,
                i as u64,
                subnet,
                extra,
                true,
                spec.eval_batch_size,
            )?
            .0
        } else {
            scoring.member(&net, i as u64, subnet, extra, None)?
        };
        members.push(member);
        observers.progress("HP: steps scored", i + 1, steps.len());
    }
    let full = FullNetwork::from(members[0].clone());
    let record = BaselineRecord {
        train_run: Some(crate::data::absolute(run.path())?),
        settings: BaselineSettings::Hp(spec.clone()),
    };
    write_baseline_front(dir, scoring.objectives(), members, full, &record)
}

impl PruningMethod for HeadPruningSpec {
    fn name(&self) -> &'static str {
        "hp"
    }

    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile> {
        head_pruning(self, input.fine_tuned("hp")?, dir, observers)
    }
}

register_method!(
    HeadPruningSpec,
    "hp",
    "Michel et al.'s head pruning of a fine-tuned network, no retraining"
);
