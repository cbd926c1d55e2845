//! `lopper export`: a dense pruned model of one sub-network.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::model::{EncoderConfig, resolve_model};
use lopper::pipeline::Exported;
use lopper::space::subnet_from_spec;

/// Flags of `lopper export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The (trained) model: a folder in the Hugging Face layout, e.g. runs/rte-full/best.
    #[arg(long)]
    pub model: String,
    /// The sub-network: `SPACE:c1,c2,…` (e.g. small:4,6,768), `@selected.json` (what `lopper
    /// select` prints, or a sub-network as JSON) or `full`.
    #[arg(long, value_name = "SPEC")]
    pub subnet: String,
    /// Folder for the dense model: model.safetensors with per-layer shapes, config.json and
    /// the tokenizer files.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `lopper export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let dir = resolve_model(&args.model, None)?;
    let arch = EncoderConfig::from_file(&dir.join("config.json"))?.arch();
    let subnet = subnet_from_spec(&args.subnet, arch).context("--subnet")?;
    let exported = lopper::pipeline::export(&args.model, &subnet, &args.out)?;
    print(&exported);
    Ok(())
}

/// What an export prints.
pub fn print(e: &Exported) {
    println!(
        "{}: {} parameters ({:.1} % of {}) → {}",
        e.subnet,
        e.params,
        100.0 * e.params as f64 / e.full_params as f64,
        e.full_params,
        e.dir.display()
    );
}
