//! `lopper eval`: score a checkpoint, an exported model or a sub-network on a split, with its
//! size and latency.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use lopper::core::Subnet;
use lopper::data::{EncodedDataset, TaskSource, TextTokenizer};
use lopper::model::{SuperNet, dense_params, resolve_model};
use lopper::prune::{ObjectiveContext, ObjectiveSpec};
use lopper::space::subnet_from_spec;
use lopper::train::Scorer;

use crate::train::{ProtocolArg, read_splits};

/// Which set to score on.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SetArg {
    /// The training set the protocol makes.
    Train,
    /// The validation set (the search's).
    Validation,
    /// The test set (the official dev split under the paper's protocol).
    Test,
}

/// Flags of `lopper eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The model: a checkpoint (runs/x/best), an exported model, or a hub id.
    #[arg(long)]
    pub model: String,
    /// Score this sub-network of the model (as for `lopper export`); default: the whole model.
    #[arg(long, value_name = "SPEC")]
    pub subnet: Option<String>,
    /// The task (as for `lopper train`).
    #[arg(long)]
    pub task: String,
    /// The task's data folder.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Which set.
    #[arg(long, value_enum, default_value = "test")]
    pub set: SetArg,
    /// How the official splits become train / validation / test.
    #[arg(long, value_enum, default_value = "paper")]
    pub protocol: ProtocolArg,
    /// Seed of the paper protocol's 70/30 shuffle.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,
    /// Truncate inputs to this many tokens.
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// Examples per batch.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Latency settings (JSON, as the `latency` objective takes them), e.g.
    /// `{"batch_size":8,"seq_len":128}`.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub latency: String,
    /// Score on the first N examples of the set only.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `lopper eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let source: TaskSource = args.task.parse()?;
    let splits = read_splits(source, &args.data, args.protocol, args.split_seed)?;
    let mut set = match args.set {
        SetArg::Train => splits.train,
        SetArg::Validation => splits.validation,
        SetArg::Test => splits
            .test
            .context("--set test: the plain protocol has no test set (use --set validation)")?,
    };
    if let Some(n) = args.limit {
        set.examples.truncate(n);
    }
    let dir = resolve_model(&args.model, None)?;
    let device = lopper::model::default_device();
    let (net, report) = SuperNet::load(&dir, &device, 0)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    if !report.initialized.is_empty() {
        bail!(
            "{} has no trained task head ({} missing): evaluate a fine-tuned checkpoint",
            dir.display(),
            report.initialized.join(", ")
        );
    }
    let exported = net.config().layers.is_some();
    let subnet = match &args.subnet {
        Some(_) if exported => bail!(
            "--subnet: {} is an exported model; it runs whole",
            dir.display()
        ),
        Some(spec) => subnet_from_spec(spec, net.arch()).context("--subnet")?,
        None => Subnet::full(&net.arch()),
    };
    let tokenizer = TextTokenizer::from_dir(&dir, args.max_len)?;
    let task = source.task();
    let data = EncodedDataset::new(&set, &tokenizer)?;
    let scorer = Scorer::new(&task, &data, net.config(), &device, args.batch_size)?;
    let e = scorer.score(&net, &subnet)?;
    let params = if exported {
        exported_params(&net)
    } else {
        dense_params(net.config(), &subnet)
    };
    let latency_cfg: serde_json::Value =
        serde_json::from_str(&args.latency).context("--latency is not JSON")?;
    let latency_cfg = if latency_cfg == serde_json::json!({}) {
        serde_json::Value::Null
    } else {
        latency_cfg
    };
    let ctx = ObjectiveContext {
        config: net.config().clone(),
        device: device.clone(),
        validation: Some(Arc::new(scorer)),
    };
    let latency = ObjectiveSpec {
        name: "latency".into(),
        config: latency_cfg,
    }
    .build(&ctx)?
    .measure(&net, &subnet)?;
    println!("model: {}", dir.display());
    if !exported {
        println!("sub-network: {subnet}");
    }
    println!(
        "{} {:?} set: {} examples, {} {:.4}",
        source,
        args.set,
        data.len(),
        e.metric.name(),
        e.score
    );
    for (m, v) in &e.values {
        if *m != e.metric {
            println!("  {} {v:.4}", m.name());
        }
    }
    // The share of the unpruned model, for a sub-network (an exported model's config does
    // not record the layers it dropped).
    let full_params = (!exported).then(|| dense_params(net.config(), &Subnet::full(&net.arch())));
    println!("parameters: {params}");
    if let Some(full) = full_params {
        println!(
            "  {:.1} % of the unpruned {full}",
            100.0 * params as f64 / full as f64
        );
    }
    println!(
        "latency: {:.2} ms median (p10 {:.2}, p90 {:.2}; batch {} x {})",
        latency.value,
        latency.info["latency_p10_ms"].as_f64().unwrap_or(f64::NAN),
        latency.info["latency_p90_ms"].as_f64().unwrap_or(f64::NAN),
        latency.info["batch_size"],
        latency.info["seq_len"],
    );
    if let Some(out) = &args.out {
        let figures = serde_json::json!({
            "model": dir.display().to_string(),
            "subnet": (!exported).then(|| subnet.to_string()),
            "task": source.to_string(),
            "set": format!("{:?}", args.set).to_lowercase(),
            "examples": data.len(),
            "metric": e.metric.name(),
            "score": e.score,
            "values": e.values.iter().map(|(m, v)| (m.name(), *v)).collect::<Vec<_>>(),
            "params": params,
            "full_params": full_params,
            "params_fraction": full_params.map(|f| params as f64 / f as f64),
            "latency_ms": {
                "median": latency.value,
                "p10": latency.info["latency_p10_ms"],
                "p90": latency.info["latency_p90_ms"],
                "batch_size": latency.info["batch_size"],
                "seq_len": latency.info["seq_len"],
            },
        });
        std::fs::write(out, serde_json::to_string_pretty(&figures)? + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

/// The parameters an exported model holds.
fn exported_params(net: &SuperNet) -> u64 {
    use lopper::burn::module::Module;
    net.weights().num_params() as u64
}
