//! `lopper embed`: sentence embeddings from a (pruned) encoder.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use lopper::data::TextTokenizer;
use lopper::model::{
    Batch, Mode, Pooling, SuperNet, l2_normalize, pool, resolve_model,
    sentence_transformers_defaults,
};
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
    let dir: PathBuf = resolve_model(&args.model, None)?;
    let device = lopper::model::default_device();
    let (net, _) = SuperNet::load(&dir, &device, 0)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let tokenizer = TextTokenizer::from_dir(&dir, args.max_len)?;
    let subnet = match &args.subnet {
        Some(spec) => Some(subnet_from_spec(spec, net.arch()).context("--subnet")?),
        None => None,
    };
    let (default_pooling, default_normalize) =
        sentence_transformers_defaults(&dir).unwrap_or((Pooling::Cls, false));
    let pooling = match args.pooling {
        Some(PoolingArg::Mean) => Pooling::Mean,
        Some(PoolingArg::Cls) => Pooling::Cls,
        None => default_pooling,
    };
    let normalize = match (args.normalize, args.no_normalize) {
        (true, _) => true,
        (_, true) => false,
        _ => default_normalize,
    };

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
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for chunk in sentences.chunks(args.batch_size) {
        let encoded = chunk
            .iter()
            .map(|s| tokenizer.encode(s, None))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<Vec<u32>> = encoded.iter().map(|e| e.ids.clone()).collect();
        let types: Vec<Vec<u32>> = encoded.iter().map(|e| e.type_ids.clone()).collect();
        let batch = Batch::new(&ids, Some(&types), None, net.config(), &device)?;
        let output = match &subnet {
            Some(s) => net.forward(&batch, s, Mode::Sliced)?,
            None => net.forward_full(&batch)?,
        };
        let mut pooled = pool(
            output.last_hidden_state,
            batch.attention_mask.clone(),
            pooling,
        );
        if normalize {
            pooled = l2_normalize(pooled);
        }
        let [rows, width] = pooled.dims();
        let values: Vec<f32> = pooled
            .into_data()
            .try_to_vec()
            .map_err(|e| anyhow::anyhow!("cannot read the embeddings: {e:?}"))?;
        for r in 0..rows {
            let row = &values[r * width..(r + 1) * width];
            writeln!(out, "{}", serde_json::to_string(row)?)?;
        }
    }
    Ok(())
}
