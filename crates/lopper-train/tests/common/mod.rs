//! What the tests of this crate share.

use lopper_model::{EncoderConfig, Family, HeadKind};

/// A tiny BERT with a 3-class head: 2 layers of 4 heads and 24 units.
pub fn config() -> EncoderConfig {
    EncoderConfig {
        family: Family::Bert,
        vocab_size: 60,
        hidden_size: 16,
        num_layers: 2,
        num_heads: 4,
        intermediate_size: 24,
        max_positions: 70,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        head: HeadKind::SequenceClassification,
        num_labels: 3,
    }
}
