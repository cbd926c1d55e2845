//! `lopper train`: fine-tune a pre-trained encoder on a task as a weight-sharing super-network.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use lopper::data::{EncodedDataset, PaperProtocol, Protocol, TaskKind, TaskSource, TextTokenizer};
use lopper::model::{EncoderConfig, HeadKind, SuperNet, resolve_model};
use lopper::space::{Sampler, SpaceConfig, SpaceKind};
use lopper::train::{Fit, FitConfig, FitProgress, STRATEGIES, Scorer, StrategyConfig, TrainConfig};

/// How the official splits are used.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ProtocolArg {
    /// Klein et al.: the official train split divided 70/30 into train and validation by a
    /// seeded shuffle (validation capped at 2,048 for the large tasks), the dev split as test.
    Paper,
    /// Train on the official train split, validate on the official dev split.
    Plain,
}

/// How LAYER and LARGE draw random sub-networks.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SamplerArg {
    /// Every bit uniformly.
    Uniform,
    /// A kept count uniform over its range first (the paper's).
    Sparsity,
}

/// Flags of `lopper train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The task: a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli),
    /// imdb or swag.
    #[arg(long)]
    pub task: String,
    /// The task's data folder: the GLUE root (holding RTE/, MRPC/, …), or the IMDB or SWAG
    /// folder.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
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
    /// How the official splits become train / validation / test.
    #[arg(long, value_enum, default_value = "paper")]
    pub protocol: ProtocolArg,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
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
    #[arg(long, default_value_t = 2e-5)]
    pub lr: f64,
    /// Epochs.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Examples per optimizer step.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// Decoupled weight decay of AdamW.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f32,
    /// Clip each parameter's gradient to this norm; 0 disables clipping.
    #[arg(long, default_value_t = 1.0)]
    pub grad_clip: f32,
    /// Random sub-networks per step (random, sandwich, full).
    #[arg(long, default_value_t = 2)]
    pub num_random: usize,
    /// Distillation temperature (kd, full).
    #[arg(long, default_value_t = 10.0)]
    pub temperature: f64,
    /// Seed of sub-network sampling and of the new task head.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seed of the data order (default: --seed).
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// Truncate inputs to this many tokens.
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// Stop after this many optimizer steps (the schedule decays to zero there).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Write a resumable checkpoint every N steps (and at the end of every epoch).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub checkpoint_every: usize,
    /// Examples per batch when validating.
    #[arg(long, default_value_t = 32)]
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
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub rewire_examples: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of `lopper split`.
#[derive(clap::Args, Debug)]
pub struct SplitArgs {
    /// The task (as for `lopper train`).
    #[arg(long)]
    pub task: String,
    /// The task's data folder (as for `lopper train`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// How the official splits become train / validation / test.
    #[arg(long, value_enum, default_value = "paper")]
    pub protocol: ProtocolArg,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Folder for train.jsonl, validation.jsonl, test.jsonl (one example per line, as
    /// `lopper train` sees them) and split.json (what was done).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `lopper split`: writes the sets a protocol makes, for other tools (the reference
/// scripts) to train on exactly the same examples.
pub fn split(args: &SplitArgs) -> Result<()> {
    let source: TaskSource = args.task.parse()?;
    let splits = read_splits(source, &args.data, args.protocol, args.split_seed)?;
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
    let mut record = serde_json::to_value(&splits.record)?;
    record["task"] = source.to_string().into();
    let path = args.out.join("split.json");
    std::fs::write(&path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub(crate) fn read_splits(
    source: TaskSource,
    data: &std::path::Path,
    protocol: ProtocolArg,
    seed: u64,
) -> Result<lopper::data::Splits> {
    if !data.is_dir() {
        bail!("--data {}: no such folder", data.display());
    }
    let protocol = match protocol {
        ProtocolArg::Paper => Protocol::Paper(PaperProtocol::new(seed)),
        ProtocolArg::Plain => Protocol::Plain,
    };
    source
        .splits(data, &protocol)
        .with_context(|| format!("cannot read task {source} from {}", data.display()))
}

/// Runs `lopper train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    if !STRATEGIES.contains(&args.strategy.as_str()) {
        bail!(
            "unknown strategy `{}`: expected one of {}",
            args.strategy,
            STRATEGIES.join(", ")
        );
    }
    if args.max_len < 8 {
        bail!("--max-len must be at least 8");
    }
    let source: TaskSource = args.task.parse()?;
    let kind: SpaceKind = args.space.parse().context("--space")?;
    let sampler = match args.sampler {
        SamplerArg::Uniform => Sampler::Uniform,
        SamplerArg::Sparsity => Sampler::Sparsity,
    };
    let mut splits = read_splits(source, &args.data, args.protocol, args.split_seed)?;
    if let Some(n) = args.train_limit {
        splits.train.examples.truncate(n);
    }
    if let Some(n) = args.validation_limit {
        splits.validation.examples.truncate(n);
    }
    let task = source.task();

    let model_dir = resolve_model(&args.model, None)?;
    let base = EncoderConfig::from_file(&model_dir.join("config.json"))
        .with_context(|| format!("cannot read the model in {}", model_dir.display()))?;
    let config = match &task.kind {
        TaskKind::Classification { labels } => {
            base.with_head(HeadKind::SequenceClassification, labels.len())
        }
        TaskKind::Regression => base.with_head(HeadKind::SequenceClassification, 1),
        TaskKind::MultipleChoice { .. } => base.with_head(HeadKind::MultipleChoice, 1),
    };
    let device = lopper::model::default_device().autodiff();
    let (mut net, report) = SuperNet::load_with_config(&model_dir, config, &device, args.seed)
        .with_context(|| format!("cannot load the model in {}", model_dir.display()))?;
    if !report.initialized.is_empty() && !args.quiet {
        eprintln!(
            "lopper: initialised (seed {}): {}",
            args.seed,
            report.initialized.join(", ")
        );
    }
    let tokenizer = TextTokenizer::from_dir(&model_dir, args.max_len)?;
    let train = EncodedDataset::new(&splits.train, &tokenizer)?;
    let validation = EncodedDataset::new(&splits.validation, &tokenizer)?;
    let space = SpaceConfig { kind, sampler }.build(net.arch())?;
    if args.rewire {
        rewire(&mut net, &train, args)?;
    }

    let config = FitConfig {
        train: TrainConfig {
            strategy: args.strategy.clone(),
            strategy_config: StrategyConfig {
                num_random: args.num_random,
                temperature: args.temperature,
            },
            lr: args.lr,
            weight_decay: args.weight_decay,
            warmup_steps: args.warmup_steps,
            grad_clip: (args.grad_clip > 0.0).then_some(args.grad_clip),
            epochs: args.epochs,
            batch_size: args.batch_size,
            seed: args.seed,
        },
        data_seed: args.data_seed.unwrap_or(args.seed),
        eval_batch_size: args.eval_batch_size,
        checkpoint_every: args.checkpoint_every,
        max_steps: args.max_steps,
    };
    let mut split = serde_json::to_value(&splits.record)?;
    split["train_limit"] = serde_json::json!(args.train_limit);
    split["validation_limit"] = serde_json::json!(args.validation_limit);
    split["test_limit"] = serde_json::json!(args.test_limit);
    let meta = serde_json::json!({
        "task": source.to_string(),
        "data": args.data.display().to_string(),
        "model": args.model,
        "space": kind.as_str(),
        "sampler": format!("{:?}", args.sampler).to_lowercase(),
        "split": split,
        "max_len": args.max_len,
        "rewire": args.rewire.then_some(args.rewire_examples.min(train.len())),
        "backend": lopper::model::default_backend(),
    });
    if !args.quiet {
        eprintln!(
            "lopper: training {} ({} layers × {} heads × {} units) on {source} ({} train, {} validation examples) with `{}` over the {} space → {}",
            model_dir.display(),
            net.arch().num_layers,
            net.arch().num_heads,
            net.arch().intermediate_size,
            train.len(),
            validation.len(),
            args.strategy,
            kind,
            args.out.display()
        );
    }
    let mut fit = Fit::new(space.as_ref(), &task, &train, config, &args.out)
        .validation(&validation)
        .tokenizer_from(&model_dir)
        .meta(meta);
    if !args.quiet {
        fit = fit.observer(FitProgress::new("train"));
    }
    let report = fit.run(net)?;
    for v in &report.history {
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
        report.steps,
        report.train_seconds,
        report.examples_per_second,
        if report.resumed { " (resumed)" } else { "" }
    );
    if let Some((epoch, score)) = report.best {
        println!(
            "best: epoch {} ({score:.4}) in {}",
            epoch + 1,
            args.out.join("best").display()
        );
    }
    println!("last: {}", args.out.join("last").display());

    // The paper's protocol holds the official dev split out as the test set: score the best
    // checkpoint on it.
    let mut test_scores = serde_json::Value::Null;
    if let Some(mut test) = splits.test {
        if let Some(n) = args.test_limit {
            test.examples.truncate(n);
        }
        let test = EncodedDataset::new(&test, &tokenizer)?;
        let plain = lopper::model::default_device();
        let best_dir = args.out.join("best");
        let net = if best_dir.join("config.json").is_file() {
            SuperNet::load(&best_dir, &plain, 0)
                .with_context(|| format!("cannot reload {}", best_dir.display()))?
                .0
        } else {
            report.net.valid()
        };
        let scorer = Scorer::new(&task, &test, net.config(), &plain, args.eval_batch_size)?;
        let mut members = vec![("largest", space.decode(&space.largest())?)];
        if args.strategy != "standard" {
            members.push(("smallest", space.decode(&space.smallest())?));
        }
        let mut scores = serde_json::Map::new();
        for (name, subnet) in &members {
            let e = scorer.score(&net, subnet)?;
            println!(
                "test ({} examples, the official dev split) {name}: {} {:.4}",
                scorer.len(),
                e.metric.name(),
                e.score
            );
            scores.insert(
                (*name).into(),
                serde_json::json!({
                    "subnet": subnet.to_string(),
                    "metric": e.metric.name(),
                    "score": e.score,
                    "values": e.values.iter().map(|(m, v)| (m.name(), *v)).collect::<Vec<_>>(),
                }),
            );
        }
        let path = args.out.join("test.json");
        std::fs::write(&path, serde_json::to_string_pretty(&scores)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        test_scores = scores.into();
    }
    // Written last: its presence says the run is complete (`lopper run` skips the stage).
    let summary = serde_json::json!({
        "finished": report.finished,
        "resumed": report.resumed,
        "steps": report.steps,
        "train_seconds": report.train_seconds,
        "examples_per_second": report.examples_per_second,
        "best": report.best.map(|(epoch, score)| serde_json::json!({"epoch": epoch + 1, "score": score})),
        "history": report.history,
        "test": test_scores,
    });
    let path = args.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Rewires `net` on the first `--rewire-examples` training examples and writes the order to
/// `OUT/rewiring.json` (the same data and seed give the same order, so a resumed run rewires
/// identically before its checkpoint replaces the weights).
fn rewire(net: &mut SuperNet, train: &EncodedDataset, args: &TrainArgs) -> Result<()> {
    let n = args.rewire_examples.min(train.len());
    if n == 0 {
        bail!(
            "--rewire needs at least one training example (--rewire-examples {})",
            args.rewire_examples
        );
    }
    let device = net.device().clone().inner();
    let indices: Vec<usize> = (0..n).collect();
    let mut batches = Vec::new();
    for chunk in indices.chunks(args.eval_batch_size.max(1)) {
        batches.push(lopper::train::model_batch(&train.batch(chunk)?, net.config(), &device)?.0);
    }
    let importance = net.importance(&batches)?;
    let order = importance.rewiring();
    net.rewire(&order)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join("rewiring.json");
    let record = serde_json::json!({
        "examples": n,
        "tokens": importance.tokens,
        "order": order,
        "importance": importance,
    });
    let text = serde_json::to_string(&record)?;
    // A folder keeps the order its checkpoints were trained in: another one (other data or
    // --rewire-examples) is refused before anything is overwritten.
    if let Ok(old) = std::fs::read_to_string(&path) {
        if old != text {
            bail!(
                "{} holds a run rewired otherwise; use another folder or the same settings",
                args.out.display()
            );
        }
        return report_rewiring(args, n, importance.tokens, &path);
    }
    let tmp = args.out.join("rewiring.json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    report_rewiring(args, n, importance.tokens, &path)
}

fn report_rewiring(
    args: &TrainArgs,
    n: usize,
    tokens: usize,
    path: &std::path::Path,
) -> Result<()> {
    if !args.quiet {
        eprintln!(
            "lopper: rewired heads and units by importance on {n} training examples ({tokens} tokens) → {}",
            path.display()
        );
    }
    Ok(())
}
