//! `lopper eval`: flags into a [`DataSpec`] and an [`EvalSpec`].

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::model::{EncoderConfig, resolve_model};
use lopper::pipeline::{DataSpec, EvalRecord, EvalSpec, Record};
use lopper::space::subnet_from_spec;

/// Flags of `lopper eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The model: a checkpoint (runs/x/best), an exported model, or a hub id. Optional when
    /// --subnet is a front member that names its own checkpoint.
    #[arg(long)]
    pub model: Option<String>,
    /// Score this sub-network of the model (as for `lopper export`); default: the whole model.
    #[arg(long, value_name = "SPEC")]
    pub subnet: Option<String>,
    #[command(flatten)]
    pub data: DataSpec,
    #[command(flatten)]
    pub own: crate::train::OwnTaskFlags,
    #[command(flatten)]
    pub spec: EvalSpec,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `lopper eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (model, subnet) = match &args.subnet {
        Some(s) => {
            let model = crate::export::model_of(args.model.as_deref(), s)?;
            let dir = resolve_model(&model, None)?;
            let arch = EncoderConfig::from_file(&dir.join("config.json"))?.arch();
            (model, Some(subnet_from_spec(s, arch).context("--subnet")?))
        }
        None => match &args.model {
            Some(m) => (m.clone(), None),
            None => {
                anyhow::bail!("--model is needed (or a --subnet member with its own checkpoint)")
            }
        },
    };
    let data = args.own.data_spec(&args.data)?;
    let record = lopper::pipeline::evaluate(&model, subnet.as_ref(), &data, &args.spec)?;
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
