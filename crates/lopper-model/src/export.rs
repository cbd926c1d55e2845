//! Writing a (pruned) model in the Hugging Face layout.
//!
//! The folder holds `model.safetensors` (Hugging Face tensor names, PyTorch `[out, in]`
//! layout, each layer at its own width), `config.json` and, when a source folder is given, the
//! tokenizer files. Hugging Face's BERT config cannot express per-layer head counts or FFN
//! widths, so `config.json` records them under `lopper_layers` (each kept layer's original head
//! and unit indices): lopper ([`PrunedNet::load`](crate::PrunedNet::load), `lopper embed`) reloads
//! such a model; transformers and other runtimes load it only when no layer was narrowed.

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

/// Writes the pruned `model` to `dir` (created if needed), copying tokenizer files from
/// `tokenizer_from`; [`PrunedNet::load`] reads it back.
pub fn export(model: &PrunedNet, dir: &Path, tokenizer_from: Option<&Path>) -> Result<()> {
    write(
        model.config(),
        model.weights(),
        Some(model.layers()),
        dir,
        tokenizer_from,
    )
}

/// Writes the super-network `net` to `dir` as a checkpoint of the model it was loaded from
/// (every layer whole), copying tokenizer files from `tokenizer_from`; [`SuperNet::load`] reads
/// it back.
pub fn save(net: &SuperNet, dir: &Path, tokenizer_from: Option<&Path>) -> Result<()> {
    write(net.config(), net.weights(), None, dir, tokenizer_from)
}

fn write(
    c: &EncoderConfig,
    w: &EncoderWeights,
    layers: Option<&[LayerShape]>,
    dir: &Path,
    tokenizer_from: Option<&Path>,
) -> Result<()> {
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
    for (i, layer) in w.layers.iter().enumerate() {
        let l = format!("{p}encoder.layer.{i}");
        if let Some(a) = &layer.attention {
            out.dense(&format!("{l}.attention.self.query"), &a.query)?;
            out.dense(&format!("{l}.attention.self.key"), &a.key)?;
            out.dense(&format!("{l}.attention.self.value"), &a.value)?;
            out.dense(&format!("{l}.attention.output.dense"), &a.output)?;
            out.norm(&format!("{l}.attention.output.LayerNorm"), &a.norm)?;
        }
        if let Some(f) = &layer.ffn {
            out.dense(&format!("{l}.intermediate.dense"), &f.intermediate)?;
            out.dense(&format!("{l}.output.dense"), &f.output)?;
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

    let family = match c.family {
        Family::Bert => "Bert",
        Family::Roberta => "Roberta",
    };
    let architecture = match c.head {
        HeadKind::None => format!("{family}Model"),
        HeadKind::SequenceClassification => format!("{family}ForSequenceClassification"),
        HeadKind::MultipleChoice => format!("{family}ForMultipleChoice"),
    };
    let config = serde_json::json!({
        "architectures": [architecture],
        "model_type": family.to_lowercase(),
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "num_hidden_layers": c.num_layers,
        "num_attention_heads": c.num_heads,
        "intermediate_size": c.intermediate_size,
        "max_position_embeddings": c.max_positions,
        "type_vocab_size": c.type_vocab_size,
        "layer_norm_eps": c.layer_norm_eps,
        "pad_token_id": c.pad_token_id,
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "num_labels": c.num_labels,
        "lopper_layers": layers,
    });
    let path = dir.join("config.json");
    let text = serde_json::to_string_pretty(&config).map_err(|e| ModelError::Json {
        path: path.clone(),
        source: e,
    })?;
    std::fs::write(&path, text).map_err(|e| ModelError::io(&path, e))?;

    if let Some(src) = tokenizer_from {
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
    }
    Ok(())
}
