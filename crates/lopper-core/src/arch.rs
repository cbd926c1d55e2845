//! The shape of a transformer encoder.

use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// The shape of a BERT-class encoder: everything a search space or a parameter count needs
/// to know, and nothing about weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Arch {
    /// Transformer layers (BERT-base: 12).
    pub num_layers: usize,
    /// Attention heads per layer (BERT-base: 12).
    pub num_heads: usize,
    /// Size of one head (BERT-base: 64).
    pub head_dim: usize,
    /// Hidden size `d` of the residual stream (BERT-base: 768 = heads × head size).
    pub hidden_size: usize,
    /// Units of the feed-forward block per layer (BERT-base: 3072).
    pub intermediate_size: usize,
    /// Rows of the token embedding.
    pub vocab_size: usize,
    /// Rows of the position embedding.
    pub max_positions: usize,
    /// Rows of the token-type embedding (BERT: 2, RoBERTa: 1).
    pub type_vocab_size: usize,
}

impl Arch {
    /// BERT-base (cased): 12 layers, 12 heads of 64, hidden 768, FFN 3072, 28,996 tokens.
    pub fn bert_base_cased() -> Self {
        Self {
            num_layers: 12,
            num_heads: 12,
            head_dim: 64,
            hidden_size: 768,
            intermediate_size: 3072,
            vocab_size: 28_996,
            max_positions: 512,
            type_vocab_size: 2,
        }
    }

    /// RoBERTa-base: BERT-base's shape with a 50,265-token vocabulary, 514 positions and one
    /// token type.
    pub fn roberta_base() -> Self {
        Self {
            vocab_size: 50_265,
            max_positions: 514,
            type_vocab_size: 1,
            ..Self::bert_base_cased()
        }
    }

    /// all-MiniLM-L6-v2: 6 layers, 12 heads of 32, hidden 384, FFN 1536.
    pub fn minilm_l6() -> Self {
        Self {
            num_layers: 6,
            num_heads: 12,
            head_dim: 32,
            hidden_size: 384,
            intermediate_size: 1536,
            vocab_size: 30_522,
            max_positions: 512,
            type_vocab_size: 2,
        }
    }

    /// Checks that the sizes agree with each other (hidden = heads × head size, nothing
    /// zero that must not be).
    pub fn validate(&self) -> Result<()> {
        let zero = [
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            ("head_dim", self.head_dim),
            ("hidden_size", self.hidden_size),
            ("intermediate_size", self.intermediate_size),
            ("vocab_size", self.vocab_size),
            ("max_positions", self.max_positions),
            ("type_vocab_size", self.type_vocab_size),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0);
        if let Some((name, _)) = zero {
            return Err(CoreError::InvalidArch(format!("{name} must be at least 1")));
        }
        if self.num_heads * self.head_dim != self.hidden_size {
            return Err(CoreError::InvalidArch(format!(
                "hidden_size {} is not num_heads {} × head_dim {}",
                self.hidden_size, self.num_heads, self.head_dim
            )));
        }
        Ok(())
    }

    /// Heads in the whole encoder.
    pub fn total_heads(&self) -> usize {
        self.num_layers * self.num_heads
    }

    /// FFN units in the whole encoder.
    pub fn total_units(&self) -> usize {
        self.num_layers * self.intermediate_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for arch in [
            Arch::bert_base_cased(),
            Arch::roberta_base(),
            Arch::minilm_l6(),
        ] {
            arch.validate().unwrap();
        }
        assert_eq!(
            Arch::bert_base_cased().total_heads() + Arch::bert_base_cased().total_units(),
            37_008
        );
    }

    #[test]
    fn inconsistent_sizes_are_refused() {
        let arch = Arch {
            hidden_size: 700,
            ..Arch::bert_base_cased()
        };
        assert!(matches!(arch.validate(), Err(CoreError::InvalidArch(m)) if m.contains("700")));
        let arch = Arch {
            num_layers: 0,
            ..Arch::bert_base_cased()
        };
        assert!(arch.validate().is_err());
    }
}
