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

/// Settings of `lopper embed`.
pub struct EmbedArgs {
    pub model: String,
    pub subnet: Option<String>,
    pub pooling: Option<Pooling>,
    pub normalize: Option<bool>,
    pub max_len: usize,
    pub batch_size: usize,
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
    let pooling = args.pooling.unwrap_or(default_pooling);
    let normalize = args.normalize.unwrap_or(default_normalize);

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
