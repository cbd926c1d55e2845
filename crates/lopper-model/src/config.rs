//! The encoder's configuration, read from a Hugging Face `config.json`.

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
pub(crate) fn read_config(path: &Path) -> Result<(EncoderConfig, Option<Vec<LayerShape>>)> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    parse_config(&text, path)
}

/// Parses a `config.json` (`path` names it in errors).
fn parse_config(text: &str, path: &Path) -> Result<(EncoderConfig, Option<Vec<LayerShape>>)> {
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
    let pruned = hf.lopper_layers;
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
    Ok((config, pruned))
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
