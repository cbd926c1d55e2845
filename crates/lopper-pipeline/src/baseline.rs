//! Baselines of Klein et al.'s comparison that prune a fine-tuned model without the
//! weight-sharing search, each writing a front in the format `lopper search` writes, so that
//! select, export, eval and the report take it unchanged. Here: HP, head pruning (Michel et
//! al., "Are Sixteen Heads Really Better than One?", 2019).

use lopper_core::{LayerKeep, Subnet, seeded_rng};
use lopper_data::{EncodedDataset, TextTokenizer};
use lopper_model::SuperNet;
use lopper_prune::{ObjectiveSpec, SubnetEvaluator};
use lopper_search::Evaluator;
use lopper_train::{model_batch, prune_heads_iteratively};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::data::read_splits;
use crate::records::{FrontFile, FrontMember, FullNetwork, Record};
use crate::search::{
    d_eval_batch_size, read_train_run, test_error_objective, validation_context, write_front_csv,
};
use crate::{Checkpoint, Observers, PipelineError, Result, SearchDir, TrainDir};

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
    /// Seed of the sample.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub seed: u64,
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
            seed: 0,
            eval_batch_size: d_eval_batch_size(),
        }
    }
}

/// `baseline.json`: which baseline made a front, from which training run, with which settings
/// (the sample's seed among them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRecord {
    /// The method: `hp`.
    pub method: String,
    /// The training run it pruned (absolute).
    pub train_run: std::path::PathBuf,
    /// Its settings.
    pub hp: HeadPruningSpec,
}

impl Record for BaselineRecord {}

/// Michel et al.'s head pruning of the network fine-tuned in `run`, into `dir`: head
/// importance from the gradients of the loss with respect to head masks on a seeded sample of
/// training examples, normalised per layer; the least important `fraction` of the remaining
/// heads masked, the importance recomputed, until no head is left. No retraining, as in the
/// paper. Every step is a member of the front (validation error and parameter fraction, and
/// the test error where the protocol has a test set); writes `front.json` and `front.csv`.
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
    let record = read_train_run(run)?;
    let meta = &record.meta;
    let checkpoint = run.checkpoint(spec.checkpoint);
    let splits = read_splits(meta.task, &meta.data, &meta.split.protocol()?)?;
    let tokenizer = TextTokenizer::from_dir(&checkpoint, meta.max_len)?;
    let plain = lopper_model::default_device();
    let auto = plain.clone().autodiff();
    let (net, report) = SuperNet::load(&checkpoint, &auto, 0)?;
    if !report.initialized.is_empty() {
        return Err(PipelineError::NoTaskHead {
            dir: checkpoint,
            missing: report.initialized.join(", "),
        });
    }

    // The importance sample: seeded, from the training split.
    let mut train = splits.train.clone();
    train.examples.shuffle(&mut seeded_rng(spec.seed));
    train.examples.truncate(spec.sample);
    let encoded = EncodedDataset::new(&train, &tokenizer)?;
    let mut batches = Vec::new();
    for b in encoded.batches(spec.batch_size)? {
        let (batch, targets) = model_batch(&b, net.config(), &auto)?;
        let targets = targets.ok_or_else(|| lopper_train::TrainError::Unlabelled {
            task: meta.task.to_string(),
            split: "training",
        })?;
        batches.push((batch, targets));
    }
    observers.message(&format!(
        "head pruning {} ({} heads) on {} training examples, {} % of the remaining heads per step",
        checkpoint.display(),
        net.config().num_layers * net.config().num_heads,
        encoded.len(),
        spec.fraction * 100.0
    ));
    let steps = prune_heads_iteratively(
        &net,
        &batches,
        spec.fraction,
        encoded.num_choices(),
        &mut |step, left| observers.message(&format!("HP step {step}: {left} heads left")),
    )?;

    // Score every step as the search scores its trials.
    let net = net.valid();
    let (ctx, _) = validation_context(
        &splits,
        meta.split.validation_limit,
        &tokenizer,
        meta,
        net.config(),
        &plain,
        spec.eval_batch_size,
    )?;
    // The search's own evaluator measures each step (values and the trial log's information).
    let space = meta.space_config().build(net.arch())?;
    let evaluator = SubnetEvaluator::new(
        space.as_ref(),
        &net,
        vec![
            ObjectiveSpec::named("error").build(&ctx)?,
            ObjectiveSpec::named("params").build(&ctx)?,
        ],
    );
    let test_error = test_error_objective(
        &splits,
        meta,
        &tokenizer,
        net.config(),
        &ctx,
        spec.eval_batch_size,
    )?;
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
        let measured = evaluator.measure(&subnet)?;
        let mut info = match measured.info {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let test = match &test_error {
            Some(o) => Some(o.measure(&net, &subnet)?.value),
            None => None,
        };
        info.insert("step".into(), i.into());
        members.push(FrontMember {
            id: i as u64,
            point: None,
            summary: subnet.to_string(),
            values: measured.values,
            test_error: test,
            info: serde_json::Value::Object(info),
            subnet,
        });
    }
    let full = members[0].clone();
    members.sort_by(|a, b| a.values[0].total_cmp(&b.values[0]).then(a.id.cmp(&b.id)));
    let objectives = evaluator.objectives();
    let front = FrontFile {
        reference_point: Some(vec![1.0; objectives.len()]),
        objectives,
        front: members,
        full: FullNetwork {
            summary: full.summary,
            values: full.values,
            test_error: full.test_error,
        },
    };
    std::fs::create_dir_all(dir.path()).map_err(|e| PipelineError::io(dir.path(), e))?;
    BaselineRecord {
        method: "hp".into(),
        train_run: crate::data::absolute(run.path())?,
        hp: spec.clone(),
    }
    .write(&dir.baseline())?;
    write_front_csv(&front, &dir.front_csv())?;
    front.write(&dir.front())?;
    Ok(front)
}
