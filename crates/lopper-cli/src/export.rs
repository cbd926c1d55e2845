//! `lopper export`: a dense pruned model of one sub-network.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::model::{SuperNet, dense_params, export, resolve_model};
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
    let device = lopper::model::default_device();
    let (net, _) = SuperNet::load(&dir, &device, 0)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let subnet = subnet_from_spec(&args.subnet, net.arch()).context("--subnet")?;
    let pruned = net.extract(&subnet)?;
    export(&pruned, &args.out, Some(&dir))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let full = dense_params(net.config(), &lopper::core::Subnet::full(&net.arch()));
    let kept = dense_params(net.config(), &subnet);
    println!(
        "{subnet}: {kept} parameters ({:.1} % of {full}) → {}",
        100.0 * kept as f64 / full as f64,
        args.out.display()
    );
    Ok(())
}
