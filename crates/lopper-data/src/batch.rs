//! Tokenised datasets and dynamically padded batches.
//!
//! [`EncodedDataset::new`] encodes every example once with the checkpoint's tokenizer (which
//! truncates to its maximum length, [`DEFAULT_MAX_LEN`](crate::DEFAULT_MAX_LEN) by default,
//! pairs longest-first, and adds the special tokens the checkpoint expects: `[CLS] a [SEP]
//! b [SEP]` for BERT, `<s> a </s></s> b </s>` for RoBERTa). A [`Batch`] pads its rows to its
//! longest row with the tokenizer's pad id (type id 0, attention 0). A multiple-choice
//! example contributes one row per (context, ending) pair, its choices contiguous: rows
//! `i * num_choices .. (i + 1) * num_choices` belong to example `i` of the batch.
//!
//! [`EncodedDataset::batches`] iterates in order (evaluation);
//! [`EncodedDataset::shuffled_batches`] in an order drawn from the seed and the epoch
//! (ChaCha8 stream `epoch + 1`), so each epoch has its own order and a rerun repeats it.

use crate::split::permutation;
use crate::{DataError, Dataset, Encoded, Label, Result, TaskKind, TextTokenizer};

/// The labels of a batch, one per example.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchLabels {
    /// Class indices (classification) or right-choice indices (multiple choice).
    Classes(Vec<usize>),
    /// Scores (regression), as the model's `f32`.
    Scores(Vec<f32>),
    /// Unlabelled examples (test files).
    None,
}

/// A padded batch: `rows × seq_len` ids, type ids and attention mask, and the labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Token ids, padded with the tokenizer's pad id.
    pub input_ids: Vec<Vec<u32>>,
    /// Token type ids, padded with 0.
    pub type_ids: Vec<Vec<u32>>,
    /// 1 for tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// One label per example.
    pub labels: BatchLabels,
    /// Rows per example: 1, or the number of choices of a multiple-choice task.
    pub num_choices: usize,
    /// The examples' indices in the encoded dataset.
    pub indices: Vec<usize>,
}

impl Batch {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch has no example.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The padded sequence length.
    pub fn seq_len(&self) -> usize {
        self.input_ids.first().map_or(0, Vec::len)
    }
}

/// One encoded example: its rows (1, or one per choice) and its label.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    rows: Vec<Encoded>,
    label: Option<Label>,
}

/// A dataset encoded once, ready to batch.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedDataset {
    items: Vec<Item>,
    num_choices: usize,
    pad_id: u32,
}

impl EncodedDataset {
    /// Encodes every example of `dataset` with `tokenizer`. Multiple-choice examples must
    /// have the task's number of choices.
    pub fn new(dataset: &Dataset, tokenizer: &TextTokenizer) -> Result<Self> {
        let num_choices = match dataset.task.kind {
            TaskKind::MultipleChoice { choices } => choices,
            _ => 1,
        };
        let multiple = matches!(dataset.task.kind, TaskKind::MultipleChoice { .. });
        let mut items = Vec::with_capacity(dataset.len());
        for example in &dataset.examples {
            let rows = if multiple {
                if example.choices.len() != num_choices {
                    return Err(DataError::Invalid(format!(
                        "example at line {} has {} choices, task {} has {num_choices}",
                        example.line,
                        example.choices.len(),
                        dataset.task.name
                    )));
                }
                example
                    .choices
                    .iter()
                    .map(|c| tokenizer.encode(&example.text, Some(c)))
                    .collect::<Result<Vec<_>>>()?
            } else {
                vec![tokenizer.encode(&example.text, example.pair.as_deref())?]
            };
            items.push(Item {
                rows,
                label: example.label,
            });
        }
        Ok(Self {
            items,
            num_choices,
            pad_id: tokenizer.pad_id(),
        })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no example.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Rows per example (1, or the number of choices).
    pub fn num_choices(&self) -> usize {
        self.num_choices
    }

    /// The gold labels in order, or `None` if some example is unlabelled.
    pub fn labels(&self) -> Option<Vec<Label>> {
        self.items.iter().map(|i| i.label).collect()
    }

    /// The batch of the examples at `indices`.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.items.len()) {
            return Err(DataError::Invalid(format!(
                "example index {bad} out of range (the dataset has {})",
                self.items.len()
            )));
        }
        Ok(self.make_batch(indices))
    }

    /// Batches of `batch_size` examples in dataset order (the last one may be smaller).
    pub fn batches(&self, batch_size: usize) -> Result<Batches<'_>> {
        self.iter((0..self.items.len()).collect(), batch_size)
    }

    /// Batches of `batch_size` examples in an order drawn from `seed` and `epoch`.
    pub fn shuffled_batches(
        &self,
        batch_size: usize,
        seed: u64,
        epoch: u64,
    ) -> Result<Batches<'_>> {
        let order = permutation(self.items.len(), seed, epoch.wrapping_add(1));
        self.iter(order, batch_size)
    }

    fn iter(&self, order: Vec<usize>, batch_size: usize) -> Result<Batches<'_>> {
        if batch_size == 0 {
            return Err(DataError::Invalid("batch size 0".into()));
        }
        Ok(Batches {
            data: self,
            order,
            size: batch_size,
            next: 0,
        })
    }

    fn make_batch(&self, indices: &[usize]) -> Batch {
        let items: Vec<&Item> = indices.iter().filter_map(|&i| self.items.get(i)).collect();
        let seq_len = items
            .iter()
            .flat_map(|it| &it.rows)
            .map(|r| r.ids.len())
            .max()
            .unwrap_or(0);
        let rows = items.len() * self.num_choices;
        let (mut input_ids, mut type_ids, mut attention_mask) = (
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
            Vec::with_capacity(rows),
        );
        for row in items.iter().flat_map(|it| &it.rows) {
            input_ids.push(padded(&row.ids, seq_len, self.pad_id));
            type_ids.push(padded(&row.type_ids, seq_len, 0));
            attention_mask.push(padded(&row.attention_mask, seq_len, 0));
        }
        let labels = match items.iter().map(|it| it.label).collect::<Option<Vec<_>>>() {
            Some(labels) if labels.iter().all(|l| matches!(l, Label::Class(_))) => {
                BatchLabels::Classes(
                    labels
                        .iter()
                        .filter_map(|l| match l {
                            Label::Class(c) => Some(*c),
                            Label::Score(_) => None,
                        })
                        .collect(),
                )
            }
            Some(labels) => BatchLabels::Scores(
                labels
                    .iter()
                    .map(|l| match l {
                        Label::Score(s) => *s as f32,
                        Label::Class(c) => *c as f32,
                    })
                    .collect(),
            ),
            None => BatchLabels::None,
        };
        Batch {
            input_ids,
            type_ids,
            attention_mask,
            labels,
            num_choices: self.num_choices,
            indices: indices.to_vec(),
        }
    }
}

fn padded(values: &[u32], len: usize, pad: u32) -> Vec<u32> {
    let mut row = Vec::with_capacity(len);
    row.extend_from_slice(values);
    row.resize(len, pad);
    row
}

/// An iterator of batches over an [`EncodedDataset`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    data: &'a EncodedDataset,
    order: Vec<usize>,
    size: usize,
    next: usize,
}

impl Batches<'_> {
    /// The example order of this pass.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.size).min(self.order.len());
        let batch = self.data.make_batch(&self.order[self.next..end]);
        self.next = end;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_extends_rows_to_the_longest() {
        assert_eq!(padded(&[5, 6], 4, 1), [5, 6, 1, 1]);
        assert_eq!(padded(&[5, 6], 2, 1), [5, 6]);
    }
}
