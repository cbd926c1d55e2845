//! `lopper export`: a dense pruned model of one sub-network.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::model::{EncoderConfig, resolve_model};
use lopper::pipeline::{ExportFormat, Exported, FrontMember};
use lopper::space::subnet_from_spec;

/// Flags of `lopper export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The (trained) model: a folder in the Hugging Face layout, e.g. runs/rte-full/best.
    /// Optional when --subnet is a front member that names its own checkpoint (a member of
    /// RFP, LD or S-NAS).
    #[arg(long)]
    pub model: Option<String>,
    /// The sub-network: `SPACE:c1,c2,…` (e.g. small:4,6,768), `@selected.json` (what `lopper
    /// select` prints, or a sub-network as JSON) or `full`.
    #[arg(long, value_name = "SPEC")]
    pub subnet: String,
    /// Folder for the dense model and the tokenizer files.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// `hf`: a standard Hugging Face checkpoint that transformers loads as it is (narrowed
    /// attention as the config's pruned_heads, FFN widths zero-padded to the widest kept
    /// layer); `onnx`: model.onnx at the true widths, for ONNX Runtime; `lopper`: lopper's own
    /// layout at the true widths.
    #[arg(long, value_enum, default_value_t = ExportFormat::Hf)]
    pub format: ExportFormat,
}

/// Runs `lopper export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    let model = model_of(args.model.as_deref(), &args.subnet)?;
    let dir = resolve_model(&model, None)?;
    let arch = EncoderConfig::from_file(&dir.join("config.json"))?.arch();
    let subnet = subnet_from_spec(&args.subnet, arch).context("--subnet")?;
    let exported = lopper::pipeline::export(&model, &subnet, &args.out, args.format)?;
    print(&exported);
    Ok(())
}

/// The model a sub-network is cut from: the member's own checkpoint when `spec` is
/// `@member.json` of a front whose member names one, else `--model`.
pub fn model_of(model: Option<&str>, spec: &str) -> Result<String> {
    let own = match spec.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("--subnet {spec}"))?;
            serde_json::from_str::<FrontMember>(&text)
                .ok()
                .and_then(|m| m.model)
        }
        None => None,
    };
    match (own, model) {
        (Some(own), _) => {
            if let Some(given) = model.filter(|m| std::path::Path::new(m) != own) {
                eprintln!(
                    "lopper: the member's weights are its own: {} (not {given})",
                    own.display()
                );
            }
            Ok(own.display().to_string())
        }
        (None, Some(m)) => Ok(m.to_string()),
        (None, None) => anyhow::bail!(
            "--model is needed: the sub-network {spec} names no checkpoint of its own"
        ),
    }
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
    let padding = if e.padding_params > 0 {
        format!(
            ", of which {} zeros of FFN padding ({:.1} MB) so that every layer has the widest \
             layer's width",
            e.padding_params,
            e.padding_params as f64 * 4.0 / 1e6
        )
    } else {
        String::new()
    };
    println!(
        "{}: {} ({:.1} MB){padding}",
        e.format,
        e.file.display(),
        e.bytes as f64 / 1e6
    );
}
