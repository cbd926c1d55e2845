//! `lopper embed`: sentence embeddings from a (pruned) encoder.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use lopper::model::Pooling;
use lopper::pipeline::Embedder;
use lopper::space::subnet_from_spec;

/// Flags of `lopper embed`.
#[derive(clap::Args, Debug)]
pub struct EmbedArgs {
    /// The model: a folder in the Hugging Face layout (config.json, model.safetensors,
    /// tokenizer.json or vocab.txt), or a hub id such as
    /// sentence-transformers/all-MiniLM-L6-v2 (needs a network unless cached).
    #[arg(long)]
    pub model: String,
    /// Run a sub-network: `small:L,H,U` (the first L layers, each with its first H heads
    /// and first U units), any space as `SPACE:c1,c2,…`, `@subnet.json`, or `full`.
    #[arg(long, value_name = "SPEC")]
    pub subnet: Option<String>,
    /// Pooling of the token states; default: the model's sentence-transformers setting,
    /// else cls.
    #[arg(long, value_enum)]
    pub pooling: Option<PoolingArg>,
    /// L2-normalise the embeddings (default: the model's sentence-transformers setting).
    #[arg(long, overrides_with = "no_normalize")]
    pub normalize: bool,
    /// Do not L2-normalise.
    #[arg(long)]
    pub no_normalize: bool,
    /// Truncate inputs to this many tokens.
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// Sentences per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}

/// How token states become one vector.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PoolingArg {
    /// Mean of the token states (the attention mask honoured).
    Mean,
    /// The first token's state.
    Cls,
}

/// Reads sentences (one per line) on standard input and prints one JSON array per line.
pub fn run(args: &EmbedArgs) -> Result<()> {
    if args.batch_size == 0 || args.max_len < 2 {
        bail!("--batch-size must be at least 1 and --max-len at least 2");
    }
    let mut embedder = Embedder::load(&args.model, args.max_len)?;
    if let Some(spec) = &args.subnet {
        let Some(arch) = embedder.arch() else {
            bail!(
                "--subnet: {} is a pruned model, which runs whole; sub-networks are cut from the checkpoint it came from",
                args.model
            );
        };
        embedder = embedder.with_subnet(subnet_from_spec(spec, arch).context("--subnet")?)?;
    }
    if let Some(p) = args.pooling {
        embedder = embedder.with_pooling(match p {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Cls => Pooling::Cls,
        });
    }
    match (args.normalize, args.no_normalize) {
        (true, _) => embedder = embedder.with_normalize(true),
        (_, true) => embedder = embedder.with_normalize(false),
        _ => {}
    }

    let lines: Vec<String> = std::io::stdin()
        .lock()
        .lines()
        .collect::<std::io::Result<_>>()
        .context("cannot read standard input")?;
    if lines.iter().all(|l| l.trim().is_empty()) {
        bail!("no input: give one sentence per line on standard input");
    }
    // One output line per input line: an empty line in between would break that pairing.
    if let Some(n) = lines.iter().position(|l| l.trim().is_empty()) {
        bail!(
            "line {} of the input is empty: give one sentence per line",
            n + 1
        );
    }
    let sentences: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    let mut out = std::io::stdout().lock();
    for row in embedder.embed(&sentences, args.batch_size)? {
        writeln!(out, "{}", serde_json::to_string(&row)?)?;
    }
    Ok(())
}
