//! `lopper eval`: flags into a [`DataSpec`](lopper::pipeline::DataSpec) and an [`EvalSpec`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::model::{EncoderConfig, resolve_model};
use lopper::pipeline::{EvalRecord, EvalSet, EvalSpec, Record};
use lopper::space::subnet_from_spec;

use crate::train::DataArgs;

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
    #[command(flatten)]
    pub data: DataArgs,
    /// Which set.
    #[arg(long, value_enum, default_value = "test")]
    pub set: SetArg,
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
    let spec = EvalSpec {
        set: match args.set {
            SetArg::Train => EvalSet::Train,
            SetArg::Validation => EvalSet::Validation,
            SetArg::Test => EvalSet::Test,
        },
        max_len: args.max_len,
        batch_size: args.batch_size,
        latency: serde_json::from_str(&args.latency).context("--latency")?,
        limit: args.limit,
    };
    let subnet = match &args.subnet {
        Some(s) => {
            let dir = resolve_model(&args.model, None)?;
            let arch = EncoderConfig::from_file(&dir.join("config.json"))?.arch();
            Some(subnet_from_spec(s, arch).context("--subnet")?)
        }
        None => None,
    };
    let record =
        lopper::pipeline::evaluate(&args.model, subnet.as_ref(), &args.data.spec()?, &spec)?;
    print(&record);
    if let Some(out) = &args.out {
        record.write(out)?;
    }
    Ok(())
}

/// What an evaluation prints.
pub fn print(r: &EvalRecord) {
    println!("model: {}", r.model.display());
    if let Some(s) = &r.subnet {
        println!("sub-network: {s}");
    }
    println!(
        "{} {:?} set: {} examples, {} {:.4}",
        r.task, r.set, r.examples, r.metric, r.score
    );
    for (m, v) in &r.values {
        if *m != r.metric {
            println!("  {m} {v:.4}");
        }
    }
    println!("parameters: {}", r.params);
    if let Some(full) = r.full_params {
        println!(
            "  {:.1} % of the unpruned {full}",
            100.0 * r.params as f64 / full as f64
        );
    }
    let l = &r.latency_ms;
    println!(
        "latency: {:.2} ms median (p10 {:.2}, p90 {:.2}; batch {} x {})",
        l.median, l.p10, l.p90, l.batch_size, l.seq_len
    );
}
