//! Stage one: fine-tune a pre-trained encoder on a task as a weight-sharing super-network.

use std::path::Path;

use lopper_core::Subnet;
use lopper_data::{EncodedDataset, ProtocolKind, TaskKind, TextTokenizer};
use lopper_model::{EncoderConfig, HeadKind, SuperNet, resolve_model};
use lopper_space::{FixedSpace, Sampler, SpaceConfig, SpaceKind};
use lopper_train::{Fit, FitConfig, Scorer, StrategyConfig, StrategyKind, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::data::{absolute, absolute_data};
use crate::records::{
    BestEpoch, Record, RewiringRecord, SplitMeta, TestScore, TestScores, TrainMeta, TrainRecord,
    TrainSummary,
};
use crate::{DataSpec, Observers, PipelineError, Result, TrainDir};

/// The defaults of [`TrainSpec`]: the paper's (lr 2e-5, 5 epochs, batch 4, T = 10, k = 2).
pub mod defaults {
    /// Peak learning rate.
    pub const LR: f64 = 2e-5;
    /// Epochs.
    pub const EPOCHS: usize = 5;
    /// Examples per step.
    pub const BATCH_SIZE: usize = 4;
    /// Decoupled weight decay.
    pub const WEIGHT_DECAY: f32 = 0.01;
    /// Per-parameter gradient norm clip (0: none).
    pub const GRAD_CLIP: f32 = 1.0;
    /// Random sub-networks per step.
    pub const NUM_RANDOM: usize = 2;
    /// Distillation temperature.
    pub const TEMPERATURE: f64 = 10.0;
    /// Tokens per input.
    pub const MAX_LEN: usize = 128;
    /// Steps between checkpoints.
    pub const CHECKPOINT_EVERY: usize = 200;
    /// Examples per validation batch.
    pub const EVAL_BATCH_SIZE: usize = 32;
    /// Training examples rewiring weighs heads and units on.
    pub const REWIRE_EXAMPLES: usize = 256;
}

macro_rules! default_fns {
    ($($name:ident: $ty:ty = $value:expr;)*) => {
        $(fn $name() -> $ty { $value })*
    };
}

default_fns! {
    d_lr: f64 = defaults::LR;
    d_epochs: usize = defaults::EPOCHS;
    d_batch_size: usize = defaults::BATCH_SIZE;
    d_weight_decay: f32 = defaults::WEIGHT_DECAY;
    d_grad_clip: f32 = defaults::GRAD_CLIP;
    d_num_random: usize = defaults::NUM_RANDOM;
    d_temperature: f64 = defaults::TEMPERATURE;
    d_max_len: usize = defaults::MAX_LEN;
    d_checkpoint_every: usize = defaults::CHECKPOINT_EVERY;
    d_eval_batch_size: usize = defaults::EVAL_BATCH_SIZE;
    d_rewire_examples: usize = defaults::REWIRE_EXAMPLES;
    d_strategy: StrategyKind = StrategyKind::Full;
    d_space: SpaceKind = SpaceKind::Small;
    d_protocol: ProtocolKind = ProtocolKind::Paper;
}

/// What to fine-tune, on what, and how. Every field but the data and the model has the
/// paper's default; in a pipeline file this is the `[train]` table, on the command line the
/// flags of `lopper train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// The task: a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli),
    /// imdb, swag or movie-reviews; or classification or regression on your own data (with
    /// --text-column and --label-column; in a pipeline file a table: kind, text_columns,
    /// label_column, labels, test_split).
    #[cfg_attr(feature = "clap", arg(long))]
    pub task: lopper_data::TaskSource,
    /// The task's data: the GLUE root (holding RTE/, MRPC/, …) or the task's folder; for your
    /// own task a file, a folder of train/validation/test files (CSV, TSV, JSON lines,
    /// Parquet), or a hub dataset hf:ORG/NAME[:CONFIG].
    #[cfg_attr(feature = "clap", arg(long, value_name = "DIR"))]
    pub data: std::path::PathBuf,
    /// How the official splits become train / validation / test: paper (the official train
    /// split divided 70/30 by a seeded shuffle, validation capped at 2,048 for the large
    /// tasks, the dev split as test) or plain (train on train, validate on dev).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = ProtocolKind::Paper))]
    #[serde(default = "d_protocol")]
    pub protocol: ProtocolKind,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub split_seed: u64,
    /// The pre-trained model: a folder in the Hugging Face layout, or a hub id (downloaded
    /// into the hub cache unless already there).
    #[cfg_attr(feature = "clap", arg(long))]
    pub model: String,
    /// Training strategy: standard, random, linear-random, sandwich, kd or full.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = StrategyKind::Full))]
    #[serde(default = "d_strategy")]
    pub strategy: StrategyKind,
    /// The search space whose sub-networks are trained: small, small-halvings, medium, layer
    /// or large.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = SpaceKind::Small))]
    #[serde(default = "d_space")]
    pub space: SpaceKind,
    /// How LAYER and LARGE draw random sub-networks: uniform (every bit) or sparsity (a kept
    /// count uniform over its range first, the paper's).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = Sampler::Uniform))]
    #[serde(default)]
    pub sampler: Sampler,
    /// Train on the first N examples of the training set only (e.g. a subsample of SST-2).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub train_limit: Option<usize>,
    /// Validate on the first N examples of the validation set only.
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub validation_limit: Option<usize>,
    /// Test on the first N examples of the test set only (here and in the search).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub test_limit: Option<usize>,
    /// Peak learning rate.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::LR))]
    #[serde(default = "d_lr")]
    pub lr: f64,
    /// Epochs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::EPOCHS))]
    #[serde(default = "d_epochs")]
    pub epochs: usize,
    /// Examples per optimizer step.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::BATCH_SIZE))]
    #[serde(default = "d_batch_size")]
    pub batch_size: usize,
    /// Linear warm-up steps.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub warmup_steps: usize,
    /// Decoupled weight decay of AdamW.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::WEIGHT_DECAY))]
    #[serde(default = "d_weight_decay")]
    pub weight_decay: f32,
    /// Clip each parameter's gradient to this norm; 0 disables clipping.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::GRAD_CLIP))]
    #[serde(default = "d_grad_clip")]
    pub grad_clip: f32,
    /// Random sub-networks per step (random, sandwich, full).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::NUM_RANDOM))]
    #[serde(default = "d_num_random")]
    pub num_random: usize,
    /// Distillation temperature (kd, full).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::TEMPERATURE))]
    #[serde(default = "d_temperature")]
    pub temperature: f64,
    /// Seed of sub-network sampling and of the new task head.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub seed: u64,
    /// Seed of the data order (default: the seed).
    #[cfg_attr(feature = "clap", arg(long))]
    #[serde(default)]
    pub data_seed: Option<u64>,
    /// Truncate inputs to this many tokens.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::MAX_LEN))]
    #[serde(default = "d_max_len")]
    pub max_len: usize,
    /// Stop after this many optimizer steps (the schedule decays to zero there).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Write a resumable checkpoint every N steps (and at the end of every epoch).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::CHECKPOINT_EVERY, value_name = "N"))]
    #[serde(default = "d_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Examples per batch when validating.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::EVAL_BATCH_SIZE))]
    #[serde(default = "d_eval_batch_size")]
    pub eval_batch_size: usize,
    /// Before training, reorder every layer's heads and FFN units by importance, most
    /// important first (DynaBERT's rewiring; the full network computes the same), so that the
    /// sub-networks of spaces that keep a layer's first heads and units (small, medium) keep
    /// the ones that matter. Importance: the mean norm of what a head or unit adds to the
    /// residual stream over the first rewire-examples training examples. The order is
    /// written to rewiring.json. Off by default: the paper does not rewire.
    #[cfg_attr(feature = "clap", arg(long))]
    #[serde(default)]
    pub rewire: bool,
    /// Training examples that rewiring weighs heads and units on.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = defaults::REWIRE_EXAMPLES, value_name = "N"))]
    #[serde(default = "d_rewire_examples")]
    pub rewire_examples: usize,
}

impl TrainSpec {
    /// The paper's settings for `model` on `data`.
    pub fn new(data: DataSpec, model: impl Into<String>) -> Self {
        Self {
            task: data.task,
            data: data.data,
            protocol: data.protocol,
            split_seed: data.split_seed,
            model: model.into(),
            strategy: d_strategy(),
            space: d_space(),
            sampler: Sampler::Uniform,
            train_limit: None,
            validation_limit: None,
            test_limit: None,
            lr: defaults::LR,
            epochs: defaults::EPOCHS,
            batch_size: defaults::BATCH_SIZE,
            warmup_steps: 0,
            weight_decay: defaults::WEIGHT_DECAY,
            grad_clip: defaults::GRAD_CLIP,
            num_random: defaults::NUM_RANDOM,
            temperature: defaults::TEMPERATURE,
            seed: 0,
            data_seed: None,
            max_len: defaults::MAX_LEN,
            max_steps: None,
            checkpoint_every: defaults::CHECKPOINT_EVERY,
            eval_batch_size: defaults::EVAL_BATCH_SIZE,
            rewire: false,
            rewire_examples: defaults::REWIRE_EXAMPLES,
        }
    }

    /// The settings that fine-tune `checkpoint` (a checkpoint of the run `record` describes)
    /// further for `epochs`, as that run was fine-tuned: its task, data, split, limits,
    /// optimizer settings and seeds, the `standard` strategy (what fine-tuning a pruned
    /// sub-network of it after pruning needs).
    pub fn continuing(record: &TrainRecord, checkpoint: &Path, epochs: usize) -> Self {
        let (meta, fit) = (&record.meta, &record.fit);
        Self {
            task: meta.task.clone(),
            data: meta.data.clone(),
            protocol: meta.split.protocol,
            split_seed: meta.split.seed.unwrap_or(0),
            model: checkpoint.display().to_string(),
            strategy: StrategyKind::Standard,
            space: meta.space,
            sampler: meta.sampler,
            train_limit: meta.split.train_limit,
            validation_limit: meta.split.validation_limit,
            test_limit: meta.split.test_limit,
            lr: fit.train.lr,
            epochs,
            batch_size: fit.train.batch_size,
            warmup_steps: fit.train.warmup_steps,
            weight_decay: fit.train.weight_decay,
            grad_clip: fit.train.grad_clip.unwrap_or(0.0),
            num_random: fit.train.strategy_config.num_random,
            temperature: fit.train.strategy_config.temperature,
            seed: fit.train.seed,
            data_seed: Some(fit.data_seed),
            max_len: meta.max_len,
            max_steps: None,
            checkpoint_every: fit.checkpoint_every,
            eval_batch_size: fit.eval_batch_size,
            rewire: false,
            rewire_examples: defaults::REWIRE_EXAMPLES,
        }
    }

    /// The trainer's settings.
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            train: TrainConfig {
                strategy: self.strategy,
                strategy_config: StrategyConfig {
                    num_random: self.num_random,
                    temperature: self.temperature,
                },
                lr: self.lr,
                weight_decay: self.weight_decay,
                warmup_steps: self.warmup_steps,
                grad_clip: (self.grad_clip > 0.0).then_some(self.grad_clip),
                epochs: self.epochs,
                batch_size: self.batch_size,
                seed: self.seed,
            },
            data_seed: self.data_seed.unwrap_or(self.seed),
            eval_batch_size: self.eval_batch_size,
            checkpoint_every: self.checkpoint_every,
            max_steps: self.max_steps,
        }
    }

    /// The task, its data and protocol.
    pub fn data_spec(&self) -> DataSpec {
        DataSpec {
            task: self.task.clone(),
            data: self.data.clone(),
            protocol: self.protocol,
            split_seed: self.split_seed,
        }
    }

    /// Checks what can be checked before anything is read.
    pub fn check(&self) -> Result<()> {
        if self.max_len < 8 {
            return Err(PipelineError::setting("max_len", "at least 8"));
        }
        if self.rewire && self.rewire_examples == 0 {
            return Err(PipelineError::setting("rewire_examples", "at least 1"));
        }
        Ok(())
    }
}

/// How a training stage ended.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// What `train.json` records.
    pub record: TrainRecord,
    /// What `summary.json` records.
    pub summary: TrainSummary,
    /// Training and validation examples.
    pub sizes: (usize, usize),
}

/// The head a task needs on `base`.
pub fn task_config(base: EncoderConfig, kind: &TaskKind) -> EncoderConfig {
    match kind {
        TaskKind::Classification { labels } => {
            base.with_head(HeadKind::SequenceClassification, labels.len())
        }
        TaskKind::Regression => base.with_head(HeadKind::SequenceClassification, 1),
        TaskKind::MultipleChoice { .. } => base.with_head(HeadKind::MultipleChoice, 1),
    }
}

/// Runs stage one into `dir`: loads the model with the task's head, rewires it if asked,
/// fine-tunes it (resuming `dir`'s last checkpoint), scores the best checkpoint on the test
/// set and writes `summary.json` last.
pub fn train(spec: &TrainSpec, dir: &TrainDir, observers: &dyn Observers) -> Result<TrainOutcome> {
    train_inner(spec, dir, None, None, observers)
}

/// Fine-tunes `subnet` alone of the pre-trained model (every other weight unchanged) as
/// [`train`] fine-tunes a super-network: the `standard` strategy over the space whose one
/// member is `subnet` (what layer dropping and standard NAS fine-tune). With
/// `stop_after_epochs`, stops after that many of the spec's epochs, the learning-rate schedule
/// still planned over all of them, so that running again with more continues the same run
/// (a scheduler's rungs); such a partial run is not scored on the test set. `train.json`
/// records the sub-network.
pub fn train_subnet(
    spec: &TrainSpec,
    subnet: &Subnet,
    dir: &TrainDir,
    stop_after_epochs: Option<usize>,
    observers: &dyn Observers,
) -> Result<TrainOutcome> {
    if spec.strategy != StrategyKind::Standard {
        return Err(PipelineError::setting(
            "strategy",
            "standard: one sub-network is fine-tuned",
        ));
    }
    train_inner(spec, dir, Some(subnet), stop_after_epochs, observers)
}

fn train_inner(
    spec: &TrainSpec,
    dir: &TrainDir,
    fixed: Option<&Subnet>,
    stop_after_epochs: Option<usize>,
    observers: &dyn Observers,
) -> Result<TrainOutcome> {
    spec.check()?;
    let data = DataSpec {
        data: absolute_data(&spec.data)?,
        ..spec.data_spec()
    };
    let mut splits = data.splits()?;
    // Your own task's labels as read from the training file: the record keeps their order.
    let source = data.task.resolve(&data.data)?;
    if let Some(n) = spec.train_limit {
        splits.train.examples.truncate(n);
    }
    if let Some(n) = spec.validation_limit {
        splits.validation.examples.truncate(n);
    }
    let task = source.task();
    let model_dir = resolve_model(&spec.model, None)?;
    // A local model folder is recorded absolute; a hub id as it is.
    let model = if Path::new(&spec.model).is_dir() {
        absolute(Path::new(&spec.model))?.display().to_string()
    } else {
        spec.model.clone()
    };
    let config = task_config(
        EncoderConfig::from_file(&model_dir.join("config.json"))?,
        &task.kind,
    );
    let device = lopper_model::default_device().autodiff();
    let (mut net, report) = SuperNet::load_with_config(&model_dir, config, &device, spec.seed)?;
    if !report.initialized.is_empty() {
        observers.message(&format!(
            "initialised (seed {}): {}",
            spec.seed,
            report.initialized.join(", ")
        ));
    }
    let tokenizer = TextTokenizer::from_dir(&model_dir, spec.max_len)?;
    let train_set = EncodedDataset::new(&splits.train, &tokenizer)?;
    let validation = EncodedDataset::new(&splits.validation, &tokenizer)?;
    let space_config = SpaceConfig {
        kind: spec.space,
        sampler: spec.sampler,
    };
    let space: Box<dyn lopper_core::SearchSpace> = match fixed {
        Some(subnet) => Box::new(FixedSpace::new(net.arch(), subnet.clone())?),
        None => space_config.build(net.arch())?,
    };
    let rewired = if spec.rewire {
        Some(rewire(&mut net, &train_set, spec, dir, observers)?)
    } else {
        None
    };
    let r = &splits.record;
    let meta = TrainMeta {
        task: source.clone(),
        data: data.data.clone(),
        model,
        space: spec.space,
        sampler: spec.sampler,
        split: SplitMeta {
            protocol: r.protocol,
            seed: r.seed,
            train_fraction: r.train_fraction,
            validation_cap: r.validation_cap,
            official_train: r.official_train,
            official_dev: r.official_dev,
            validation_dropped: r.validation_dropped,
            train_limit: spec.train_limit,
            validation_limit: spec.validation_limit,
            test_limit: spec.test_limit,
        },
        max_len: spec.max_len,
        rewire: rewired,
        subnet: fixed.cloned(),
        backend: lopper_model::default_backend().to_string(),
    };
    observers.message(&format!(
        "training {} ({} layers × {} heads × {} units) on {} ({} train, {} validation examples) with `{}` over the {} space → {}",
        model_dir.display(),
        net.arch().num_layers,
        net.arch().num_heads,
        net.arch().intermediate_size,
        data.task,
        train_set.len(),
        validation.len(),
        spec.strategy,
        spec.space,
        dir.path().display()
    ));
    let mut fit = Fit::new(
        space.as_ref(),
        &task,
        &train_set,
        spec.fit_config(),
        dir.path(),
    )
    .validation(&validation)
    .tokenizer_from(&model_dir)
    .meta(meta);
    if let Some(o) = observers.fit("train") {
        fit = fit.observer(o);
    }
    if let Some(epochs) = stop_after_epochs {
        fit = fit.stop_after(epochs * train_set.len().div_ceil(spec.batch_size));
    }
    let report = fit.run(net)?;
    let record = TrainRecord::read(&dir.record())?;

    // The paper's protocol holds the official dev split out as the test set: score the best
    // checkpoint on it.
    let mut test_scores = None;
    // A run stopped at a scheduler's rung is scored on the test set by whoever picks it.
    let test_split = splits.test.filter(|_| stop_after_epochs.is_none());
    if let Some(mut test) = test_split {
        if let Some(n) = spec.test_limit {
            test.examples.truncate(n);
        }
        let test = EncodedDataset::new(&test, &tokenizer)?;
        let plain = lopper_model::default_device();
        let best = dir.checkpoint(crate::Checkpoint::Best);
        let net = if best.join("config.json").is_file() {
            SuperNet::load(&best, &plain, 0)?.0
        } else {
            report.net.valid()
        };
        let scorer = Scorer::new(&task, &test, net.config(), &plain, spec.eval_batch_size)?;
        let mut members = vec![("largest", space.decode(&space.largest())?)];
        if spec.strategy.trains_subnetworks() {
            members.push(("smallest", space.decode(&space.smallest())?));
        }
        let mut scores = TestScores::new();
        for (name, subnet) in &members {
            scores.insert((*name).into(), test_score(&scorer, &net, subnet)?);
        }
        scores.write(&dir.test())?;
        test_scores = Some(scores);
    }
    let summary = TrainSummary {
        finished: report.finished,
        resumed: report.resumed,
        steps: report.steps,
        train_seconds: report.train_seconds,
        examples_per_second: report.examples_per_second,
        best: report.best.map(|(epoch, score)| BestEpoch {
            epoch: epoch + 1,
            score,
        }),
        history: report.history,
        test: test_scores,
    };
    // Written last: its presence says the run is complete.
    summary.write(&dir.summary())?;
    Ok(TrainOutcome {
        record,
        summary,
        sizes: (train_set.len(), validation.len()),
    })
}

fn test_score(scorer: &Scorer, net: &SuperNet, subnet: &Subnet) -> Result<TestScore> {
    let e = scorer.score(net, subnet)?;
    Ok(TestScore {
        examples: scorer.len(),
        subnet: subnet.to_string(),
        metric: e.metric.name().to_string(),
        score: e.score,
        values: e.named_values(),
    })
}

/// Rewires `net` on the first `rewire_examples` training examples and records the order in
/// `rewiring.json` (the same data and seed give the same order, so a resumed run rewires
/// identically before its checkpoint replaces the weights). Returns the examples used.
fn rewire(
    net: &mut SuperNet,
    train: &EncodedDataset,
    spec: &TrainSpec,
    dir: &TrainDir,
    observers: &dyn Observers,
) -> Result<usize> {
    let n = spec.rewire_examples.min(train.len());
    if n == 0 {
        return Err(PipelineError::setting(
            "rewire",
            "at least one training example",
        ));
    }
    let device = net.device().clone().inner();
    let indices: Vec<usize> = (0..n).collect();
    let mut batches = Vec::new();
    for chunk in indices.chunks(spec.eval_batch_size.max(1)) {
        batches.push(lopper_train::model_batch(&train.batch(chunk)?, net.config(), &device)?.0);
    }
    let importance = net.importance(&batches)?;
    let order = importance.rewiring();
    net.rewire(&order)?;
    let record = RewiringRecord {
        examples: n,
        tokens: importance.tokens,
        order,
        importance,
    };
    std::fs::create_dir_all(dir.path()).map_err(|e| PipelineError::io(dir.path(), e))?;
    let path = dir.rewiring();
    // A folder keeps the order its checkpoints were trained in: another one (other data or
    // rewire_examples) is refused before anything is overwritten.
    if path.exists() {
        if RewiringRecord::read(&path)? != record {
            return Err(PipelineError::OtherRewiring {
                dir: dir.path().to_path_buf(),
            });
        }
    } else {
        record.write(&path)?;
    }
    observers.message(&format!(
        "rewired heads and units by importance on {n} training examples ({} tokens) → {}",
        record.tokens,
        path.display()
    ));
    Ok(n)
}
