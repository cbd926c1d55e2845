//! Tokenisation with a checkpoint's own tokenizer.

use std::path::Path;

use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{Model, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{DataError, Result};

/// One encoded input: ids, token types and attention mask, unpadded (batches pad dynamically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Token type (segment) ids: 0 for the first sentence, 1 for the second of a pair.
    pub type_ids: Vec<u32>,
    /// 1 for every token (padding is added later, by the batch).
    pub attention_mask: Vec<u32>,
}

/// A checkpoint's tokenizer: `tokenizer.json` when the folder has one, otherwise a BERT
/// WordPiece tokenizer built from `vocab.txt` (lower-casing as `tokenizer_config.json` says).
/// Padding configured in the file is switched off: batches pad to their longest input.
pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
    pad_id: u32,
}

/// The part of `tokenizer_config.json` a WordPiece vocabulary needs.
#[derive(serde::Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    do_lower_case: Option<bool>,
}

/// The truncation length of the paper's experiments (and of GLUE fine-tuning scripts).
pub const DEFAULT_MAX_LEN: usize = 128;

impl TextTokenizer {
    /// Loads the tokenizer of the model folder `dir`, truncating inputs to `max_len` tokens.
    pub fn from_dir(dir: &Path, max_len: usize) -> Result<Self> {
        let json = dir.join("tokenizer.json");
        let mut inner = if json.is_file() {
            Tokenizer::from_file(&json).map_err(|source| DataError::TokenizerFile {
                path: json.clone(),
                source,
            })?
        } else {
            Self::wordpiece(dir)?
        };
        // The padding token: as the file configures it, else `[PAD]` (BERT) or `<pad>`
        // (RoBERTa), else 0.
        let pad_id = inner
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| inner.token_to_id("[PAD]"))
            .or_else(|| inner.token_to_id("<pad>"))
            .unwrap_or(0);
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|source| DataError::TokenizerFile {
                path: dir.to_path_buf(),
                source,
            })?;
        Ok(Self {
            inner,
            max_len,
            pad_id,
        })
    }

    fn wordpiece(dir: &Path) -> Result<Tokenizer> {
        let vocab = dir.join("vocab.txt");
        if !vocab.is_file() {
            return Err(DataError::Tokenizer {
                path: dir.to_path_buf(),
                message: "no tokenizer.json and no vocab.txt".into(),
            });
        }
        // `do_lower_case` of `tokenizer_config.json`; BERT's vocabularies are lower-cased
        // unless it says otherwise (a missing or unreadable file is no reason to fail).
        let lowercase = std::fs::read_to_string(dir.join("tokenizer_config.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<TokenizerConfig>(&t).ok())
            .and_then(|c| c.do_lower_case)
            .unwrap_or(true);
        let bad = |source: tokenizers::Error| DataError::TokenizerFile {
            path: vocab.clone(),
            source,
        };
        let model = WordPiece::from_file(&vocab.to_string_lossy())
            .unk_token("[UNK]".into())
            .build()
            .map_err(bad)?;
        let cls = model.get_vocab().get("[CLS]").copied();
        let sep = model.get_vocab().get("[SEP]").copied();
        let (Some(cls), Some(sep)) = (cls, sep) else {
            return Err(DataError::Tokenizer {
                path: vocab.clone(),
                message: "vocab.txt lacks [CLS] or [SEP]".into(),
            });
        };
        let mut t = Tokenizer::new(model);
        t.with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)));
        t.with_pre_tokenizer(Some(BertPreTokenizer));
        t.with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
        Ok(t)
    }

    /// Encodes a single text, or a pair.
    pub fn encode(&self, text: &str, pair: Option<&str>) -> Result<Encoded> {
        let enc = match pair {
            Some(p) => self.inner.encode((text, p), true),
            None => self.inner.encode(text, true),
        }
        .map_err(|source| DataError::Encode {
            text: text.chars().take(40).collect(),
            source,
        })?;
        Ok(Encoded {
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
            attention_mask: enc.get_attention_mask().to_vec(),
        })
    }

    /// The truncation length.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The id batches pad with.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpiece_from_vocab_txt_when_there_is_no_tokenizer_json() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\ncat\nsat\n##s\n.\n";
        std::fs::write(dir.path().join("vocab.txt"), vocab).unwrap();
        let t = TextTokenizer::from_dir(dir.path(), 8).unwrap();
        let e = t.encode("The cats sat.", None).unwrap();
        assert_eq!(e.ids, [2, 4, 5, 7, 6, 8, 3]);
        let p = t.encode("the cat", Some("dog")).unwrap();
        assert_eq!(p.ids, [2, 4, 5, 3, 1, 3]);
        assert_eq!(p.type_ids, [0, 0, 0, 0, 1, 1]);
        assert_eq!(t.pad_id(), 0);
        // Truncation to 8 tokens, specials included.
        assert_eq!(
            t.encode("the cat sat the cat sat the cat", None)
                .unwrap()
                .ids
                .len(),
            8
        );
    }

    #[test]
    fn a_folder_without_a_tokenizer_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = TextTokenizer::from_dir(dir.path(), 8)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no tokenizer.json and no vocab.txt"), "{err}");
    }
}
