//! Writing a (pruned) model in the Hugging Face layout.
//!
//! Two layouts, both `model.safetensors` (Hugging Face tensor names, PyTorch `[out, in]`
//! layout), `config.json` and, when a source folder is given, the tokenizer files:
//!
//! - [`export_hf`]: what `transformers` loads as it is. Dropped layers leave the config;
//!   narrowed attention is recorded as the config's `pruned_heads` (transformers removes those
//!   heads before it reads the weights, so they are stored at their true width); FFN widths,
//!   which a BERT config cannot set per layer, are zero-padded to the widest kept layer, which
//!   is exact (a unit with zero input weights and bias adds GELU(0) · 0 = 0). `lopper_units`
//!   records each layer's own width, so that lopper reads the layers back narrow.
//! - [`export`]: lopper's own, each layer at its own width with `lopper_layers` (each kept
//!   layer's original head and unit indices); only lopper reads it back when a layer was
//!   narrowed.

use std::path::Path;

use burn::tensor::Tensor;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::modules::{Dense, Norm};
use crate::{
    EncoderConfig, EncoderWeights, Family, HeadKind, LayerShape, ModelError, PrunedNet, Result,
    SuperNet,
};

/// Tokenizer and sentence-transformers files copied along when present (so that an exported
/// embedding model keeps its pooling and normalisation).
const TOKENIZER_FILES: [&str; 11] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "merges.txt",
    "vocab.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "2_Normalize/config.json",
];

struct Writer {
    tensors: Vec<(String, Vec<usize>, Vec<u8>)>,
}

impl Writer {
    fn add<const D: usize>(&mut self, name: String, t: Tensor<D>) -> Result<()> {
        let shape = t.dims().to_vec();
        let values: Vec<f32> = t
            .into_data()
            .try_to_vec()
            .map_err(|e| ModelError::data(format!("tensor {name}"), e))?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensors.push((name, shape, bytes));
        Ok(())
    }

    /// A [`Dense`] back in PyTorch's `[out, in]` layout.
    fn dense(&mut self, name: &str, d: &Dense) -> Result<()> {
        self.add(format!("{name}.weight"), d.weight.val().transpose())?;
        self.add(format!("{name}.bias"), d.bias.val())
    }

    fn norm(&mut self, name: &str, n: &Norm) -> Result<()> {
        self.add(format!("{name}.weight"), n.gamma.val())?;
        self.add(format!("{name}.bias"), n.beta.val())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSize {
    /// Zeros of padding stored beside the parameters (a `hf` export's FFN).
    pub padding_params: u64,
    /// Bytes of the weights file.
    pub bytes: u64,
}

/// Writes the pruned `model` to `dir` (created if needed) in lopper's layout, each layer at its
/// own width, copying tokenizer files from `tokenizer_from`; [`PrunedNet::load`] reads it back.
pub fn export(model: &PrunedNet, dir: &Path, tokenizer_from: Option<&Path>) -> Result<ExportSize> {
    write(
        model.config(),
        model.weights(),
        Layout::Lopper(model.layers()),
        dir,
        tokenizer_from,
    )
}

/// Writes the pruned `model` to `dir` (created if needed) as a standard Hugging Face
/// checkpoint that `transformers.AutoModel.from_pretrained` loads as it is (see the module
/// docs), copying tokenizer files from `tokenizer_from`; [`PrunedNet::load`] reads it back at
/// its true widths.
///
/// A kept layer that keeps heads but no FFN unit, or units but no head, has no standard
/// equivalent (lopper skips the empty block, transformers would run its LayerNorm):
/// [`ModelError::HfInexpressible`]. A layer that keeps neither is left out, as a dropped one.
pub fn export_hf(
    model: &PrunedNet,
    dir: &Path,
    tokenizer_from: Option<&Path>,
) -> Result<ExportSize> {
    let mut kept = Vec::new();
    for (i, (shape, layer)) in model
        .layers()
        .iter()
        .zip(&model.weights().layers)
        .enumerate()
    {
        match (&layer.attention, &layer.ffn) {
            (Some(_), Some(_)) => kept.push((i, shape)),
            (None, None) => {}
            (Some(_), None) => {
                return Err(ModelError::HfInexpressible {
                    layer: i,
                    what: "heads",
                    missing: "FFN unit",
                });
            }
            (None, Some(_)) => {
                return Err(ModelError::HfInexpressible {
                    layer: i,
                    what: "FFN units",
                    missing: "head",
                });
            }
        }
    }
    let width = kept
        .iter()
        .map(|(_, s)| s.units.len())
        .max()
        .unwrap_or(model.config().intermediate_size);
    write(
        model.config(),
        model.weights(),
        Layout::Hf { kept, width },
        dir,
        tokenizer_from,
    )
}

/// Writes the super-network `net` to `dir` as a checkpoint of the model it was loaded from
/// (every layer whole), copying tokenizer files from `tokenizer_from`; [`SuperNet::load`] reads
/// it back.
pub fn save(net: &SuperNet, dir: &Path, tokenizer_from: Option<&Path>) -> Result<()> {
    write(
        net.config(),
        net.weights(),
        Layout::Whole,
        dir,
        tokenizer_from,
    )
    .map(|_| ())
}

/// How [`write`] lays the layers out.
enum Layout<'a> {
    /// A super-network's checkpoint: every layer whole.
    Whole,
    /// lopper's pruned layout: each layer at its own width, `lopper_layers` in the config.
    Lopper(&'a [LayerShape]),
    /// transformers' layout: the `kept` layers (index among the model's layers, shape), heads
    /// at their width with `pruned_heads`, FFN tensors zero-padded to `width` units.
    Hf {
        kept: Vec<(usize, &'a LayerShape)>,
        width: usize,
    },
}

/// `t` (`[rows, cols]`) with zero rows appended up to `rows` rows.
fn pad_rows(t: Tensor<2>, rows: usize) -> Tensor<2> {
    let [r, c] = t.dims();
    if r >= rows {
        return t;
    }
    let zeros = Tensor::<2>::zeros([rows - r, c], &t.device());
    Tensor::cat(vec![t, zeros], 0)
}

fn pad_vec(t: Tensor<1>, len: usize) -> Tensor<1> {
    let [n] = t.dims();
    if n >= len {
        return t;
    }
    let zeros = Tensor::<1>::zeros([len - n], &t.device());
    Tensor::cat(vec![t, zeros], 0)
}

fn write(
    c: &EncoderConfig,
    w: &EncoderWeights,
    layout: Layout<'_>,
    dir: &Path,
    tokenizer_from: Option<&Path>,
) -> Result<ExportSize> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let p = match (c.head, c.family) {
        (HeadKind::None, _) => "",
        (_, Family::Bert) => "bert.",
        (_, Family::Roberta) => "roberta.",
    };
    let mut out = Writer {
        tensors: Vec::new(),
    };
    out.add(
        format!("{p}embeddings.word_embeddings.weight"),
        w.embeddings.word.val(),
    )?;
    out.add(
        format!("{p}embeddings.position_embeddings.weight"),
        w.embeddings.position.val(),
    )?;
    out.add(
        format!("{p}embeddings.token_type_embeddings.weight"),
        w.embeddings.token_type.val(),
    )?;
    out.norm(&format!("{p}embeddings.LayerNorm"), &w.embeddings.norm)?;
    let mut padding = 0u64;
    let mut pruned_heads = serde_json::Map::new();
    let written: Vec<(usize, &crate::Layer)> = match &layout {
        Layout::Whole | Layout::Lopper(_) => w.layers.iter().enumerate().collect(),
        Layout::Hf { kept, .. } => kept
            .iter()
            .enumerate()
            .map(|(j, (i, _))| (j, &w.layers[*i]))
            .collect(),
    };
    for (i, layer) in written {
        let l = format!("{p}encoder.layer.{i}");
        if let Layout::Hf { kept, .. } = &layout {
            let removed: Vec<usize> = (0..c.num_heads)
                .filter(|h| !kept[i].1.heads.contains(h))
                .collect();
            if !removed.is_empty() {
                pruned_heads.insert(i.to_string(), serde_json::json!(removed));
            }
        }
        if let Some(a) = &layer.attention {
            out.dense(&format!("{l}.attention.self.query"), &a.query)?;
            out.dense(&format!("{l}.attention.self.key"), &a.key)?;
            out.dense(&format!("{l}.attention.self.value"), &a.value)?;
            out.dense(&format!("{l}.attention.output.dense"), &a.output)?;
            out.norm(&format!("{l}.attention.output.LayerNorm"), &a.norm)?;
        }
        if let Some(f) = &layer.ffn {
            // Stored at its own width, or (hf) zero-padded to the widest kept layer.
            let units = f.intermediate.dims()[1];
            let width = match &layout {
                Layout::Hf { width, .. } => *width,
                _ => units,
            };
            padding += (width - units) as u64 * (2 * c.hidden_size as u64 + 1);
            let wi = pad_rows(f.intermediate.weight.val().transpose(), width);
            out.add(format!("{l}.intermediate.dense.weight"), wi)?;
            let bi = pad_vec(f.intermediate.bias.val(), width);
            out.add(format!("{l}.intermediate.dense.bias"), bi)?;
            let wo = pad_rows(f.output.weight.val(), width).transpose();
            out.add(format!("{l}.output.dense.weight"), wo)?;
            out.add(format!("{l}.output.dense.bias"), f.output.bias.val())?;
            out.norm(&format!("{l}.output.LayerNorm"), &f.norm)?;
        }
    }
    if let Some(pooler) = &w.pooler {
        out.dense(&format!("{p}pooler.dense"), pooler)?;
    }
    if let Some(cl) = &w.classifier {
        match &cl.dense {
            Some(dense) => {
                out.dense("classifier.dense", dense)?;
                out.dense("classifier.out_proj", &cl.out)?;
            }
            None => out.dense("classifier", &cl.out)?,
        }
    }
    let weights = dir.join("model.safetensors");
    let unwritable = |source| ModelError::SafetensorsWrite {
        path: weights.clone(),
        source,
    };
    let views: Vec<(String, TensorView<'_>)> = out
        .tensors
        .iter()
        .map(|(n, s, b)| {
            TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(unwritable)
        })
        .collect::<Result<_>>()?;
    safetensors::serialize_to_file(views, None, &weights).map_err(unwritable)?;
    let bytes = std::fs::metadata(&weights)
        .map_err(|e| ModelError::io(&weights, e))?
        .len();

    let family = match c.family {
        Family::Bert => "Bert",
        Family::Roberta => "Roberta",
    };
    let architecture = match c.head {
        HeadKind::None => format!("{family}Model"),
        HeadKind::SequenceClassification => format!("{family}ForSequenceClassification"),
        HeadKind::MultipleChoice => format!("{family}ForMultipleChoice"),
    };
    let (num_layers, intermediate_size) = match &layout {
        Layout::Hf { kept, width } => (kept.len(), *width),
        _ => (c.num_layers, c.intermediate_size),
    };
    let mut config = serde_json::json!({
        "architectures": [architecture],
        "model_type": family.to_lowercase(),
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": c.num_heads,
        "intermediate_size": intermediate_size,
        "max_position_embeddings": c.max_positions,
        "type_vocab_size": c.type_vocab_size,
        "layer_norm_eps": c.layer_norm_eps,
        "pad_token_id": c.pad_token_id,
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "num_labels": c.num_labels,
    });
    match &layout {
        Layout::Whole => {}
        Layout::Lopper(layers) => {
            config["lopper_layers"] = serde_json::json!(layers);
        }
        Layout::Hf { kept, .. } => {
            let units: Vec<usize> = kept.iter().map(|(_, s)| s.units.len()).collect();
            config["pruned_heads"] = serde_json::Value::Object(pruned_heads);
            config["lopper_units"] = serde_json::json!(units);
        }
    }
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&config).map_err(|e| ModelError::Json {
        path: path.clone(),
        source: e,
    })?;
    std::fs::write(&path, text).map_err(|e| ModelError::io(&path, e))?;

    copy_tokenizer(tokenizer_from, dir)?;
    Ok(ExportSize {
        padding_params: padding,
        bytes,
    })
}

/// Copies the tokenizer (and sentence-transformers) files of `src` that exist into `dir`.
pub(crate) fn copy_tokenizer(src: Option<&Path>, dir: &Path) -> Result<()> {
    let Some(src) = src else { return Ok(()) };
    for name in TOKENIZER_FILES {
        let from = src.join(name);
        if from.is_file() {
            let to = dir.join(name);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
            }
            std::fs::copy(&from, &to).map_err(|e| ModelError::io(&from, e))?;
        }
    }
    Ok(())
}
