//! The encoder's configuration, read from a Hugging Face `config.json`.

use std::collections::BTreeMap;
use std::path::Path;

use lopper_core::Arch;
use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// Which architecture a checkpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// BERT (and BERT-shaped models such as MiniLM): post-LayerNorm, token types, pooler.
    Bert,
    /// RoBERTa: BERT's layers, position ids offset past the padding index, one token type,
    /// a classification head on the first token without the pooler.
    Roberta,
}

/// What sits on top of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// The bare encoder (and BERT's pooler).
    None,
    /// Sequence classification with `num_labels` classes, or regression when `num_labels` is 1.
    SequenceClassification,
    /// Multiple choice: one score per choice (SWAG).
    MultipleChoice,
}

/// The layers kept by an exported (pruned) model: which original heads and how many units each
/// layer keeps. Hugging Face's BERT config cannot express per-layer widths; lopper records them
/// under `lopper_layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerShape {
    /// Original indices of the kept heads (their count is the layer's head count).
    pub heads: Vec<usize>,
    /// Original indices of the kept FFN units.
    pub units: Vec<usize>,
}

/// An encoder configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// BERT or RoBERTa.
    pub family: Family,
    /// Token vocabulary.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// Layers.
    pub num_layers: usize,
    /// Heads per layer.
    pub num_heads: usize,
    /// FFN units per layer.
    pub intermediate_size: usize,
    /// Position embeddings.
    pub max_positions: usize,
    /// Token types.
    pub type_vocab_size: usize,
    /// LayerNorm epsilon (BERT: 1e-12).
    pub layer_norm_eps: f64,
    /// Padding token id (RoBERTa's position ids start after it).
    pub pad_token_id: usize,
    /// The task head.
    pub head: HeadKind,
    /// Classes of a classification head (1 = regression).
    pub num_labels: usize,
}

/// The fields of a Hugging Face config this crate reads.
#[derive(Deserialize)]
struct HfConfig {
    model_type: Option<String>,
    architectures: Option<Vec<String>>,
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "two")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default)]
    pad_token_id: Option<usize>,
    #[serde(default = "gelu")]
    hidden_act: String,
    #[serde(default)]
    num_labels: Option<usize>,
    #[serde(default)]
    id2label: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    position_embedding_type: Option<String>,
    #[serde(default)]
    lopper_layers: Option<Vec<LayerShape>>,
    /// Heads removed from each layer (`{"layer": [heads]}`), as transformers' `prune_heads`
    /// records them; the layer's tensors hold the remaining heads.
    #[serde(default)]
    pruned_heads: Option<BTreeMap<String, Vec<usize>>>,
    /// Each layer's own FFN width in a `hf` export, whose FFN tensors are zero-padded to
    /// `intermediate_size` (the layer's units first).
    #[serde(default)]
    lopper_units: Option<Vec<usize>>,
}

/// How a pruned checkpoint stores its layers: what [`read_config`] finds beside the config.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrunedLayout {
    /// Each layer's kept heads and units.
    pub shapes: Vec<LayerShape>,
    /// FFN tensors stored zero-padded to this many units, each layer's own units first (a
    /// `hf` export); `None`: stored at each layer's width.
    pub ffn_padded_to: Option<usize>,
}

fn two() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn gelu() -> String {
    "gelu".into()
}

/// What a `config.json` describes: the encoder, and for a pruned export (written by
/// [`export`](crate::export())) the heads and units each kept layer holds.
pub(crate) fn read_config(path: &Path) -> Result<(EncoderConfig, Option<PrunedLayout>)> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    parse_config(&text, path)
}

/// Parses a `config.json` (`path` names it in errors).
fn parse_config(text: &str, path: &Path) -> Result<(EncoderConfig, Option<PrunedLayout>)> {
    let bad = |message: String| ModelError::Config {
        path: path.to_path_buf(),
        message,
    };
    let hf: HfConfig = serde_json::from_str(text).map_err(|e| ModelError::Json {
        path: path.to_path_buf(),
        source: e,
    })?;
    let family = match hf.model_type.as_deref() {
        Some("bert") | None => Family::Bert,
        Some("roberta") => Family::Roberta,
        Some(other) => {
            return Err(bad(format!(
                "model_type `{other}` is not supported (bert, roberta)"
            )));
        }
    };
    if hf.hidden_act != "gelu" {
        return Err(bad(format!(
            "hidden_act `{}` is not supported (only the exact erf `gelu`)",
            hf.hidden_act
        )));
    }
    if let Some(p) = hf.position_embedding_type.as_deref()
        && p != "absolute"
    {
        return Err(bad(format!(
            "position_embedding_type `{p}` is not supported"
        )));
    }
    let arch_names = hf.architectures.unwrap_or_default();
    let head = if arch_names
        .iter()
        .any(|a| a.ends_with("ForSequenceClassification"))
    {
        HeadKind::SequenceClassification
    } else if arch_names.iter().any(|a| a.ends_with("ForMultipleChoice")) {
        HeadKind::MultipleChoice
    } else {
        HeadKind::None
    };
    let num_labels = hf.num_labels.or(hf.id2label.map(|m| m.len())).unwrap_or(2);
    let config = EncoderConfig {
        family,
        vocab_size: hf.vocab_size,
        hidden_size: hf.hidden_size,
        num_layers: hf.num_hidden_layers,
        num_heads: hf.num_attention_heads,
        intermediate_size: hf.intermediate_size,
        max_positions: hf.max_position_embeddings,
        type_vocab_size: hf.type_vocab_size,
        layer_norm_eps: hf.layer_norm_eps,
        pad_token_id: hf.pad_token_id.unwrap_or(match family {
            Family::Bert => 0,
            Family::Roberta => 1,
        }),
        head,
        num_labels,
    };
    // An exported sub-network may keep no layer at all (embeddings, pooler and head only).
    let mut arch = config.arch();
    // A config written whole by transformers carries `"pruned_heads": {}`: nothing pruned.
    let pruned_heads = hf.pruned_heads.filter(|m| !m.is_empty());
    let (pruned, ffn_padded_to) = match (hf.lopper_layers, pruned_heads, hf.lopper_units) {
        (Some(layers), None, None) => (Some(layers), None),
        (Some(_), _, _) => {
            return Err(bad(
                "lopper_layers cannot come with pruned_heads or lopper_units".into(),
            ));
        }
        (None, None, None) => (None, None),
        (None, heads, units) => {
            let shapes = transformers_layout(&config, heads.unwrap_or_default(), units.as_deref())
                .map_err(bad)?;
            (Some(shapes), units.map(|_| config.intermediate_size))
        }
    };
    if pruned.is_some() && arch.num_layers == 0 {
        arch.num_layers = 1;
    }
    arch.validate().map_err(|e| bad(e.to_string()))?;
    if let Some(layers) = &pruned {
        if layers.len() != config.num_layers {
            return Err(bad(format!(
                "lopper_layers has {} entries for {} layers",
                layers.len(),
                config.num_layers
            )));
        }
        for (i, shape) in layers.iter().enumerate() {
            let beyond = shape.heads.iter().any(|&h| h >= config.num_heads)
                || shape.units.iter().any(|&u| u >= config.intermediate_size);
            if beyond {
                return Err(bad(format!(
                    "lopper_layers[{i}] keeps a head or unit beyond the model's {} heads and {} units",
                    config.num_heads, config.intermediate_size
                )));
            }
        }
    }
    let layout = pruned.map(|shapes| PrunedLayout {
        shapes,
        ffn_padded_to,
    });
    Ok((config, layout))
}

/// The layers of a checkpoint pruned the transformers way: `pruned_heads` (heads removed per
/// layer) and, in a `hf` export, `lopper_units` (each layer's FFN width inside the padded
/// `intermediate_size`). Each layer keeps its remaining heads in order and its first units.
fn transformers_layout(
    config: &EncoderConfig,
    pruned_heads: BTreeMap<String, Vec<usize>>,
    units: Option<&[usize]>,
) -> std::result::Result<Vec<LayerShape>, String> {
    let (n, heads, width) = (
        config.num_layers,
        config.num_heads,
        config.intermediate_size,
    );
    let mut removed = vec![Vec::new(); n];
    for (key, list) in pruned_heads {
        let layer = key
            .parse::<usize>()
            .ok()
            .filter(|&l| l < n)
            .ok_or_else(|| format!("pruned_heads names layer `{key}` of a {n}-layer model"))?;
        if let Some(&h) = list.iter().find(|&&h| h >= heads) {
            return Err(format!(
                "pruned_heads[{layer}] removes head {h} of a {heads}-head layer"
            ));
        }
        removed[layer] = list;
    }
    if let Some(units) = units
        && units.len() != n
    {
        return Err(format!(
            "lopper_units has {} entries for {n} layers",
            units.len()
        ));
    }
    (0..n)
        .map(|layer| {
            let kept: Vec<usize> = (0..heads).filter(|h| !removed[layer].contains(h)).collect();
            let u = units.map_or(width, |u| u[layer]);
            // transformers still runs the block's residual and LayerNorm when every head (or
            // unit) is gone; lopper skips such a block, so it cannot run this checkpoint as
            // transformers does.
            if kept.is_empty() || u == 0 {
                return Err(format!(
                    "layer {layer} keeps no {} (transformers would still run its LayerNorm)",
                    if kept.is_empty() { "head" } else { "FFN unit" }
                ));
            }
            if u > width {
                return Err(format!(
                    "lopper_units[{layer}] = {u} exceeds intermediate_size {width}"
                ));
            }
            Ok(LayerShape {
                heads: kept,
                units: (0..u).collect(),
            })
        })
        .collect()
}

impl EncoderConfig {
    /// Reads the `config.json` of a checkpoint to train or search. A pruned export's is
    /// refused ([`ModelError::Pruned`]): load that one as a [`PrunedNet`](crate::PrunedNet).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Parses the text of a `config.json` (`path` names it in errors), refusing a pruned
    /// export's as [`EncoderConfig::from_file`] does.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        match parse_config(text, path)? {
            (config, None) => Ok(config),
            (_, Some(_)) => Err(ModelError::Pruned {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The same configuration with a task head of `kind` and `num_labels` classes.
    pub fn with_head(mut self, kind: HeadKind, num_labels: usize) -> Self {
        self.head = kind;
        self.num_labels = num_labels;
        self
    }

    /// The shape of the (full) encoder.
    pub fn arch(&self) -> Arch {
        Arch {
            num_layers: self.num_layers,
            num_heads: self.num_heads,
            head_dim: self.head_dim(),
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            vocab_size: self.vocab_size,
            max_positions: self.max_positions,
            type_vocab_size: self.type_vocab_size,
        }
    }

    /// Whether the task head sits on the pooler (`tanh(W·h₀ + b)`): BERT's heads and RoBERTa's
    /// multiple-choice head do, as in transformers.
    pub fn head_uses_pooler(&self) -> bool {
        self.head != HeadKind::None
            && (self.family == Family::Bert || self.head == HeadKind::MultipleChoice)
    }

    /// Whether the classifier has its own hidden projection on the first token (RoBERTa's
    /// sequence-classification head: `classifier.dense` then `classifier.out_proj`).
    pub fn classifier_has_dense(&self) -> bool {
        self.family == Family::Roberta && self.head == HeadKind::SequenceClassification
    }

    /// Outputs of the task head: one per label, or one score per choice.
    pub fn head_outputs(&self) -> usize {
        match self.head {
            HeadKind::MultipleChoice => 1,
            _ => self.num_labels,
        }
    }

    /// Size of one head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size.checked_div(self.num_heads).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{"architectures":["BertModel"],"hidden_act":"gelu","hidden_size":384,
        "intermediate_size":1536,"layer_norm_eps":1e-12,"max_position_embeddings":512,
        "model_type":"bert","num_attention_heads":12,"num_hidden_layers":6,"pad_token_id":0,
        "position_embedding_type":"absolute","type_vocab_size":2,"vocab_size":30522}"#;

    #[test]
    fn reads_a_bert_config() {
        let c = EncoderConfig::from_json(MINILM, Path::new("config.json")).unwrap();
        assert_eq!(c.family, Family::Bert);
        assert_eq!(c.head, HeadKind::None);
        assert_eq!(c.arch(), Arch::minilm_l6());
        assert_eq!(c.layer_norm_eps, 1e-12);
    }

    #[test]
    fn pruned_heads_make_a_pruned_model_unless_empty() {
        let empty = MINILM.replace("\"vocab_size\"", "\"pruned_heads\":{},\"vocab_size\"");
        assert!(EncoderConfig::from_json(&empty, Path::new("c.json")).is_ok());
        let pruned = MINILM.replace(
            "\"vocab_size\"",
            "\"pruned_heads\":{\"2\":[0,5]},\"vocab_size\"",
        );
        let (config, layout) = parse_config(&pruned, Path::new("c.json")).unwrap();
        let layout = layout.unwrap();
        assert_eq!(layout.shapes.len(), config.num_layers);
        assert_eq!(layout.shapes[2].heads.len(), 10);
        assert!(!layout.shapes[2].heads.contains(&5));
        assert_eq!(layout.shapes[0].units.len(), 1536);
        assert_eq!(layout.ffn_padded_to, None);
        for bad in [
            "\"pruned_heads\":{\"9\":[0]},",
            "\"pruned_heads\":{\"1\":[12]},",
            "\"pruned_heads\":{\"1\":[0,1,2,3,4,5,6,7,8,9,10,11]},",
            "\"lopper_units\":[1,2],",
            "\"lopper_units\":[1,2,3,4,5,0],",
        ] {
            let text = MINILM.replace("\"vocab_size\"", &format!("{bad}\"vocab_size\""));
            assert!(parse_config(&text, Path::new("c.json")).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        let bad = MINILM.replace("\"gelu\"", "\"relu\"");
        let err = EncoderConfig::from_json(&bad, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.json") && err.contains("relu"), "{err}");
        let bad = MINILM.replace("\"bert\"", "\"gpt2\"");
        assert!(EncoderConfig::from_json(&bad, Path::new("c.json")).is_err());
        let bad = MINILM.replace("\"hidden_size\":384", "\"hidden_size\":380");
        assert!(EncoderConfig::from_json(&bad, Path::new("c.json")).is_err());
        let bad = MINILM.replace("\"vocab_size\":30522", "\"vocab_size\":\"many\"");
        assert!(EncoderConfig::from_json(&bad, Path::new("c.json")).is_err());
    }
}
