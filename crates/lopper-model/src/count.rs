//! Parameter and multiply-accumulate counts of sub-networks, from the configuration alone.
//!
//! [`paper_params`] counts as the paper's reference code does: embeddings, pooler and task head
//! included, and a layer's attention output projection at full size whenever the layer keeps
//! a head. [`dense_params`] is the exact size of the dense model [`SuperNet::extract`]
//! produces (the output projection sliced too).
//!
//! [`SuperNet::extract`]: crate::SuperNet::extract

use lopper_core::Subnet;

use crate::{EncoderConfig, Family, HeadKind};

/// Parameters outside the layers: embeddings (with their LayerNorm), pooler, task head.
fn outside_layers(c: &EncoderConfig) -> u64 {
    let d = c.hidden_size as u64;
    let embeddings = (c.vocab_size + c.max_positions + c.type_vocab_size) as u64 * d + 2 * d;
    let out = if c.head == HeadKind::None {
        0
    } else {
        let n = c.head_outputs() as u64;
        d * n + n
    };
    // BERT always has its pooler; RoBERTa's only when its head uses it (multiple choice).
    let pooler = if c.family == Family::Bert || c.head_uses_pooler() {
        d * d + d
    } else {
        0
    };
    let classifier_dense = if c.classifier_has_dense() {
        d * d + d
    } else {
        0
    };
    embeddings + pooler + classifier_dense + out
}

/// Parameters of one layer keeping `h` heads and `n` units; `full_output` counts the attention
/// output projection at full size (the paper's convention).
fn layer(c: &EncoderConfig, h: u64, n: u64, full_output: bool) -> u64 {
    let d = c.hidden_size as u64;
    let dh = c.head_dim() as u64;
    let attention = if h > 0 {
        let output_rows = if full_output { d } else { h * dh };
        3 * h * (d * dh + dh) + output_rows * d + d + 2 * d
    } else {
        0
    };
    let ffn = if n > 0 { 2 * d * n + d + n + 2 * d } else { 0 };
    attention + ffn
}

/// The paper's parameter count of `subnet` (embeddings, pooler and head included; attention
/// output projection at full size when a layer keeps a head).
pub fn paper_params(c: &EncoderConfig, subnet: &Subnet) -> u64 {
    let layers: u64 = subnet
        .heads_per_layer()
        .iter()
        .zip(subnet.units_per_layer())
        .map(|(&h, n)| layer(c, h as u64, n as u64, true))
        .sum();
    outside_layers(c) + layers
}

/// The parameters of `subnet`'s layers alone, counted as [`paper_params`] counts them: the
/// part of the paper's count that pruning the encoder can remove (for all-MiniLM-L6-v2 about
/// half of it; the rest is the embeddings).
pub fn encoder_params(c: &EncoderConfig, subnet: &Subnet) -> u64 {
    paper_params(c, subnet) - outside_layers(c)
}

/// The exact parameter count of the dense model extracted for `subnet`.
pub fn dense_params(c: &EncoderConfig, subnet: &Subnet) -> u64 {
    let layers: u64 = subnet
        .heads_per_layer()
        .iter()
        .zip(subnet.units_per_layer())
        .map(|(&h, n)| layer(c, h as u64, n as u64, false))
        .sum();
    outside_layers(c) + layers
}

/// Multiply-accumulates of one forward pass of the layers at sequence length `seq`: per kept
/// head `3·s·d·dh + 2·s²·dh + s·dh·d` (Q, K, V; scores and context; its share of the output
/// projection), per kept unit `2·s·d` (in and out of the FFN). FLOPs are twice this.
pub fn macs(c: &EncoderConfig, subnet: &Subnet, seq: usize) -> u64 {
    let (s, d, dh) = (seq as u64, c.hidden_size as u64, c.head_dim() as u64);
    let per_head = 3 * s * d * dh + 2 * s * s * dh + s * dh * d;
    let per_unit = 2 * s * d;
    subnet.total_heads() as u64 * per_head + subnet.total_units() as u64 * per_unit
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::Arch;

    fn config(arch: Arch, family: Family) -> EncoderConfig {
        EncoderConfig {
            family,
            vocab_size: arch.vocab_size,
            hidden_size: arch.hidden_size,
            num_layers: arch.num_layers,
            num_heads: arch.num_heads,
            intermediate_size: arch.intermediate_size,
            max_positions: arch.max_positions,
            type_vocab_size: arch.type_vocab_size,
            layer_norm_eps: 1e-12,
            pad_token_id: if family == Family::Bert { 0 } else { 1 },
            head: HeadKind::SequenceClassification,
            num_labels: 2,
        }
    }

    #[test]
    fn the_papers_counts() {
        let bert = config(Arch::bert_base_cased(), Family::Bert);
        let full = Subnet::full(&bert.arch());
        assert_eq!(paper_params(&bert, &full), 108_311_810);
        assert_eq!(dense_params(&bert, &full), 108_311_810);
        let roberta = config(Arch::roberta_base(), Family::Roberta);
        assert_eq!(
            paper_params(&roberta, &Subnet::full(&roberta.arch())),
            124_647_170
        );

        let none = |c: &EncoderConfig| Subnet::from_counts(&c.arch(), &vec![None; 12]).unwrap();
        let frac = |c: &EncoderConfig, s: &Subnet| {
            paper_params(c, s) as f64 / paper_params(c, &Subnet::full(&c.arch())) as f64
        };
        assert!((frac(&bert, &none(&bert)) - 0.2147).abs() < 5e-5);
        assert!((frac(&roberta, &none(&roberta)) - 0.3176).abs() < 5e-5);
        // The encoder's share: nothing without layers; BERT-base's 12 layers of 7,087,872.
        assert_eq!(encoder_params(&bert, &none(&bert)), 0);
        assert_eq!(encoder_params(&bert, &full), 12 * 7_087_872);
        let mut smallest = vec![None; 12];
        smallest[0] = Some((1, 1));
        let smallest = Subnet::from_counts(&bert.arch(), &smallest).unwrap();
        assert!((frac(&bert, &smallest) - 0.2216).abs() < 5e-5);
        // The dense model slices the output projection too.
        assert_eq!(
            paper_params(&bert, &smallest) - dense_params(&bert, &smallest),
            (768 - 64) * 768
        );
    }

    #[test]
    fn macs_by_hand() {
        // One layer, 2 heads of 2 (d = 4), 3 units, sequence 5.
        let arch = Arch {
            num_layers: 1,
            num_heads: 2,
            head_dim: 2,
            hidden_size: 4,
            intermediate_size: 3,
            vocab_size: 10,
            max_positions: 8,
            type_vocab_size: 2,
        };
        let c = config(arch, Family::Bert);
        let full = Subnet::full(&arch);
        // per head: 3·5·4·2 + 2·25·2 + 5·2·4 = 120 + 100 + 40 = 260; per unit: 2·5·4 = 40.
        assert_eq!(macs(&c, &full, 5), 2 * 260 + 3 * 40);
        let half = Subnet::from_counts(&arch, &[Some((1, 1))]).unwrap();
        assert_eq!(macs(&c, &half, 5), 260 + 40);
        assert_eq!(
            macs(&c, &Subnet::from_counts(&arch, &[None]).unwrap(), 5),
            0
        );
    }
}
