//! `lopper train` and `lopper split`: flags into [`TrainSpec`] and [`DataSpec`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lopper::data::{ProtocolKind, SplitRecord, TaskSource};
use lopper::pipeline::{DataSpec, TrainDir, TrainOutcome, TrainSpec, defaults};
use lopper::space::{Sampler, SpaceKind};
use lopper::train::StrategyKind;

use crate::progress::Bars;

/// How the official splits are used.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProtocolArg {
    /// Klein et al.: the official train split divided 70/30 into train and validation by a
    /// seeded shuffle (validation capped at 2,048 for the large tasks), the dev split as test.
    Paper,
    /// Train on the official train split, validate on the official dev split.
    Plain,
}

impl From<ProtocolArg> for ProtocolKind {
    fn from(p: ProtocolArg) -> Self {
        match p {
            ProtocolArg::Paper => ProtocolKind::Paper,
            ProtocolArg::Plain => ProtocolKind::Plain,
        }
    }
}

/// How LAYER and LARGE draw random sub-networks.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SamplerArg {
    /// Every bit uniformly.
    Uniform,
    /// A kept count uniform over its range first (the paper's).
    Sparsity,
}

/// The task, its data folder and protocol, as every data-reading command takes them.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// The task: a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli),
    /// imdb, swag or movie-reviews.
    #[arg(long)]
    pub task: String,
    /// The task's data folder: the GLUE root (holding RTE/, MRPC/, …), or the task's folder.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// How the official splits become train / validation / test.
    #[arg(long, value_enum, default_value = "paper")]
    pub protocol: ProtocolArg,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
}

impl DataArgs {
    // Parsed here rather than by clap, so that a bad value is one `lopper: error:` line.
    pub fn spec(&self) -> Result<DataSpec> {
        Ok(DataSpec {
            task: self.task.parse()?,
            data: self.data.clone(),
            protocol: self.protocol.into(),
            split_seed: self.split_seed,
        })
    }
}

/// Flags of `lopper train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The pre-trained model: a folder in the Hugging Face layout, or a hub id (downloaded
    /// into the hub cache unless already there).
    #[arg(long)]
    pub model: String,
    /// Training strategy: standard, random, linear-random, sandwich, kd or full.
    #[arg(long, default_value = "full")]
    pub strategy: String,
    /// The search space whose sub-networks are trained: small, small-halvings, medium, layer
    /// or large.
    #[arg(long, default_value = "small")]
    pub space: String,
    /// How LAYER and LARGE draw random sub-networks.
    #[arg(long, value_enum, default_value = "uniform")]
    pub sampler: SamplerArg,
    /// The run folder: settings, metrics.jsonl, last/ and best/ checkpoints. Running the same
    /// command again resumes it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Train on the first N examples of the training set only (e.g. a subsample of SST-2).
    #[arg(long, value_name = "N")]
    pub train_limit: Option<usize>,
    /// Validate on the first N examples of the validation set only.
    #[arg(long, value_name = "N")]
    pub validation_limit: Option<usize>,
    /// Test on the first N examples of the test set only (here and in `lopper search`).
    #[arg(long, value_name = "N")]
    pub test_limit: Option<usize>,
    /// Peak learning rate.
    #[arg(long, default_value_t = defaults::LR)]
    pub lr: f64,
    /// Epochs.
    #[arg(long, default_value_t = defaults::EPOCHS)]
    pub epochs: usize,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = defaults::BATCH_SIZE)]
    pub batch_size: usize,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// Decoupled weight decay of AdamW.
    #[arg(long, default_value_t = defaults::WEIGHT_DECAY)]
    pub weight_decay: f32,
    /// Clip each parameter's gradient to this norm; 0 disables clipping.
    #[arg(long, default_value_t = defaults::GRAD_CLIP)]
    pub grad_clip: f32,
    /// Random sub-networks per step (random, sandwich, full).
    #[arg(long, default_value_t = defaults::NUM_RANDOM)]
    pub num_random: usize,
    /// Distillation temperature (kd, full).
    #[arg(long, default_value_t = defaults::TEMPERATURE)]
    pub temperature: f64,
    /// Seed of sub-network sampling and of the new task head.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seed of the data order (default: --seed).
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Truncate inputs to this many tokens.
    #[arg(long, default_value_t = defaults::MAX_LEN)]
    pub max_len: usize,
    /// Stop after this many optimizer steps (the schedule decays to zero there).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Write a resumable checkpoint every N steps (and at the end of every epoch).
    #[arg(long, default_value_t = defaults::CHECKPOINT_EVERY, value_name = "N")]
    pub checkpoint_every: usize,
    /// Examples per batch when validating.
    #[arg(long, default_value_t = defaults::EVAL_BATCH_SIZE)]
    pub eval_batch_size: usize,
    /// Before training, reorder every layer's heads and FFN units by importance, most
    /// important first (DynaBERT's rewiring; the full network computes the same), so that the
    /// sub-networks of spaces that keep a layer's first heads and units (small, medium) keep
    /// the ones that matter. Importance: the mean norm of what a head or unit adds to the
    /// residual stream over the first --rewire-examples training examples. The order is
    /// written to rewiring.json. Off by default: the paper does not rewire.
    #[arg(long)]
    pub rewire: bool,
    /// Training examples that rewiring weighs heads and units on.
    #[arg(long, default_value_t = defaults::REWIRE_EXAMPLES, value_name = "N")]
    pub rewire_examples: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    pub fn spec(&self) -> Result<TrainSpec> {
        Ok(TrainSpec {
            strategy: self.strategy.parse::<StrategyKind>()?,
            space: self.space.parse::<SpaceKind>().context("--space")?,
            sampler: match self.sampler {
                SamplerArg::Uniform => Sampler::Uniform,
                SamplerArg::Sparsity => Sampler::Sparsity,
            },
            train_limit: self.train_limit,
            validation_limit: self.validation_limit,
            test_limit: self.test_limit,
            lr: self.lr,
            epochs: self.epochs,
            batch_size: self.batch_size,
            warmup_steps: self.warmup_steps,
            weight_decay: self.weight_decay,
            grad_clip: self.grad_clip,
            num_random: self.num_random,
            temperature: self.temperature,
            seed: self.seed,
            data_seed: self.data_seed,
            max_len: self.max_len,
            max_steps: self.max_steps,
            checkpoint_every: self.checkpoint_every,
            eval_batch_size: self.eval_batch_size,
            rewire: self.rewire,
            rewire_examples: self.rewire_examples,
            ..TrainSpec::new(self.data.spec()?, self.model.clone())
        })
    }
}

/// Runs `lopper train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let dir = TrainDir::new(&args.out);
    let outcome = lopper::pipeline::train(&args.spec()?, &dir, &Bars { show: !args.quiet })?;
    print(&outcome, dir.path());
    Ok(())
}

/// What a finished training run prints.
pub fn print(outcome: &TrainOutcome, dir: &Path) {
    let s = &outcome.summary;
    for v in &s.history {
        let scores: Vec<String> = v
            .scores
            .iter()
            .map(|s| format!("{} {:.4}", format!("{:?}", s.role).to_lowercase(), s.score))
            .collect();
        println!(
            "epoch {}  step {}  validation {}: {}",
            v.epoch + 1,
            v.step,
            v.metric,
            scores.join("  ")
        );
    }
    println!(
        "{} steps, {:.1} s training, {:.2} examples/s{}",
        s.steps,
        s.train_seconds,
        s.examples_per_second,
        if s.resumed { " (resumed)" } else { "" }
    );
    if let Some(b) = s.best {
        println!(
            "best: epoch {} ({:.4}) in {}",
            b.epoch,
            b.score,
            dir.join("best").display()
        );
    }
    println!("last: {}", dir.join("last").display());
    for (name, t) in s.test.iter().flatten() {
        println!(
            "test ({} examples, the official dev split) {name}: {} {:.4}",
            t.examples, t.metric, t.score
        );
    }
}

/// Flags of `lopper split`.
#[derive(clap::Args, Debug)]
pub struct SplitArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Folder for train.jsonl, validation.jsonl, test.jsonl (one example per line, as
    /// `lopper train` sees them) and split.json (what was done).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `split.json`: the task and what the protocol did.
#[derive(serde::Serialize)]
struct SplitFile<'a> {
    task: TaskSource,
    #[serde(flatten)]
    record: &'a SplitRecord,
}

/// Runs `lopper split`: writes the sets a protocol makes, for other tools (the reference
/// scripts) to train on exactly the same examples.
pub fn split(args: &SplitArgs) -> Result<()> {
    let data = args.data.spec()?;
    let splits = data.splits()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut sets = vec![("train", &splits.train), ("validation", &splits.validation)];
    if let Some(t) = &splits.test {
        sets.push(("test", t));
    }
    for (name, set) in sets {
        let path = args.out.join(format!("{name}.jsonl"));
        let mut text = String::new();
        for e in &set.examples {
            text.push_str(&serde_json::to_string(e)?);
            text.push('\n');
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{name}: {} examples → {}", set.len(), path.display());
    }
    let record = SplitFile {
        task: data.task,
        record: &splits.record,
    };
    let path = args.out.join("split.json");
    std::fs::write(&path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
