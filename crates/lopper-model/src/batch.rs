//! Token batches as the encoder takes them.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::{EncoderConfig, Family, ModelError, Result};

/// A padded batch of token ids with their token types, positions and attention mask.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[batch, seq]`.
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]`.
    pub token_type_ids: Tensor<2, Int>,
    /// `[batch, seq]`: BERT counts from 0; RoBERTa counts non-padding tokens from
    /// `pad_token_id + 1` and gives padding `pad_token_id`.
    pub position_ids: Tensor<2, Int>,
    /// `[batch, seq]`: 1 for real tokens, 0 for padding.
    pub attention_mask: Tensor<2>,
}

impl Batch {
    /// Pads `ids` (one row per sequence, ragged) to the longest row. `type_ids` default to 0;
    /// `mask` (same shape as `ids`) defaults to 1 for every given token. Padding gets the pad id,
    /// type 0 and mask 0.
    pub fn new(
        ids: &[Vec<u32>],
        type_ids: Option<&[Vec<u32>]>,
        mask: Option<&[Vec<u32>]>,
        config: &EncoderConfig,
        device: &Device,
    ) -> Result<Self> {
        if ids.is_empty() || ids.iter().any(Vec::is_empty) {
            return Err(ModelError::Input(
                "a batch needs at least one non-empty sequence".into(),
            ));
        }
        let b = ids.len();
        let s = ids.iter().map(Vec::len).max().unwrap_or(0);
        let offset = match config.family {
            Family::Bert => 0,
            Family::Roberta => config.pad_token_id + 1,
        };
        if s + offset > config.max_positions {
            return Err(ModelError::Input(format!(
                "sequences of {s} tokens exceed the model's {} positions",
                config.max_positions - offset
            )));
        }
        let mut tok = vec![config.pad_token_id as i64; b * s];
        let mut typ = vec![0i64; b * s];
        let mut pos = vec![0i64; b * s];
        let mut att = vec![0f32; b * s];
        for (r, row) in ids.iter().enumerate() {
            let types = type_ids.and_then(|t| t.get(r));
            let masks = mask.and_then(|m| m.get(r));
            if types.is_some_and(|t| t.len() != row.len())
                || masks.is_some_and(|m| m.len() != row.len())
            {
                return Err(ModelError::Input(format!(
                    "sequence {r}: token types or mask differ in length from the ids"
                )));
            }
            let mut next_position = offset as i64;
            for (c, &id) in row.iter().enumerate() {
                let i = r * s + c;
                if id as usize >= config.vocab_size {
                    return Err(ModelError::Input(format!(
                        "token id {id} is outside the vocabulary of {}",
                        config.vocab_size
                    )));
                }
                tok[i] = i64::from(id);
                let t = types.map_or(0, |t| t[c]);
                if t as usize >= config.type_vocab_size {
                    return Err(ModelError::Input(format!("token type {t} is out of range")));
                }
                typ[i] = i64::from(t);
                let m = masks.map_or(1, |m| m[c]);
                att[i] = if m > 0 { 1.0 } else { 0.0 };
                pos[i] = match config.family {
                    Family::Bert => c as i64,
                    Family::Roberta if id as usize == config.pad_token_id => {
                        config.pad_token_id as i64
                    }
                    Family::Roberta => {
                        let p = next_position;
                        next_position += 1;
                        p
                    }
                };
            }
            for c in row.len()..s {
                pos[r * s + c] = match config.family {
                    Family::Bert => c as i64,
                    Family::Roberta => config.pad_token_id as i64,
                };
            }
        }
        let int = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, s]), device);
        Ok(Self {
            input_ids: int(tok),
            token_type_ids: int(typ),
            position_ids: int(pos),
            attention_mask: Tensor::from_data(TensorData::new(att, [b, s]), device),
        })
    }

    /// `[batch, seq]`.
    pub fn dims(&self) -> [usize; 2] {
        self.input_ids.dims()
    }
}
