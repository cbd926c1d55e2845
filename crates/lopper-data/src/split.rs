//! Train / validation / test sets from a task's official splits.
//!
//! [`Protocol::Paper`] is the protocol of Klein et al. (2024): the official training split
//! is shuffled with a seed and divided 70/30 into a training and a validation set (the first
//! ⌊0.7·n⌋ shuffled examples train), the official dev split serves as the test set, and for
//! the large tasks ([`Task::large`]: SST-2, QQP, QNLI, MNLI, SWAG) the validation set is
//! capped at 2,048 examples (the first 2,048 of the shuffled remainder, i.e. a uniform
//! sample without replacement; the original code drew with replacement). The seed, fraction
//! and cap are recorded in [`SplitRecord`]. [`Protocol::Plain`] trains on the official train
//! split and validates on the official dev split, without a test set.
//!
//! Shuffles are Fisher–Yates over ChaCha8 ([`lopper_core::seeded_rng`]) with rejection
//! sampling on raw 64-bit words, so a seed gives the same split on every platform and does
//! not depend on `rand`'s range-sampling algorithm.

use lopper_core::seeded_rng;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{DataError, Dataset, Result, Split};

/// How a task's official splits become training, validation and test sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Protocol {
    /// Official train to train, official dev to validate; no test set.
    Plain,
    /// The paper's protocol (see the module documentation).
    Paper(PaperProtocol),
}

/// The options of the paper's protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaperProtocol {
    /// The seed of the shuffle.
    pub seed: u64,
    /// The share of the official train split that trains (0.7).
    pub train_fraction: f64,
    /// The cap on the validation set of large tasks (2,048); `None` for no cap.
    pub validation_cap: Option<usize>,
}

impl PaperProtocol {
    /// The paper's train share.
    pub const TRAIN_FRACTION: f64 = 0.7;
    /// The paper's validation cap for large tasks.
    pub const VALIDATION_CAP: usize = 2048;

    /// The paper's protocol with `seed`: 70/30, validation capped at 2,048 for large tasks.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            train_fraction: Self::TRAIN_FRACTION,
            validation_cap: Some(Self::VALIDATION_CAP),
        }
    }

    /// The same protocol with another train share.
    pub fn with_train_fraction(mut self, fraction: f64) -> Self {
        self.train_fraction = fraction;
        self
    }

    /// The same protocol with another cap (`None`: no cap).
    pub fn with_validation_cap(mut self, cap: Option<usize>) -> Self {
        self.validation_cap = cap;
        self
    }
}

/// Which protocol made a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolKind {
    /// [`Protocol::Plain`].
    Plain,
    /// [`Protocol::Paper`].
    Paper,
}

impl std::fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProtocolKind::Plain => "plain",
            ProtocolKind::Paper => "paper",
        })
    }
}

impl std::str::FromStr for ProtocolKind {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "plain" => Ok(ProtocolKind::Plain),
            "paper" => Ok(ProtocolKind::Paper),
            other => Err(DataError::Invalid(format!(
                "unknown protocol `{other}`: expected paper or plain"
            ))),
        }
    }
}

/// What a protocol did: enough to reproduce and report the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Which protocol.
    pub protocol: ProtocolKind,
    /// The shuffle's seed (paper protocol).
    pub seed: Option<u64>,
    /// The train share (paper protocol).
    pub train_fraction: Option<f64>,
    /// The cap applied to the validation set (paper protocol, large tasks).
    pub validation_cap: Option<usize>,
    /// The size of the official train split.
    pub official_train: usize,
    /// The size of the official dev split.
    pub official_dev: usize,
    /// Validation examples left out by the cap.
    pub validation_dropped: usize,
}

/// The sets a protocol produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// The training set.
    pub train: Dataset,
    /// The validation set: the search's objective is measured on it.
    pub validation: Dataset,
    /// The test set (the official dev split), under the paper's protocol.
    pub test: Option<Dataset>,
    /// What was done.
    pub record: SplitRecord,
}

impl Protocol {
    /// Which protocol this is.
    pub fn kind(&self) -> ProtocolKind {
        match self {
            Protocol::Plain => ProtocolKind::Plain,
            Protocol::Paper(_) => ProtocolKind::Paper,
        }
    }

    /// Applies the protocol to a task's official `train` and `dev` splits.
    pub fn apply(&self, train: Dataset, dev: Dataset) -> Result<Splits> {
        let (official_train, official_dev) = (train.len(), dev.len());
        match self {
            Protocol::Plain => Ok(Splits {
                train,
                validation: dev,
                test: None,
                record: SplitRecord {
                    protocol: ProtocolKind::Plain,
                    seed: None,
                    train_fraction: None,
                    validation_cap: None,
                    official_train,
                    official_dev,
                    validation_dropped: 0,
                },
            }),
            Protocol::Paper(p) => {
                if !(p.train_fraction > 0.0 && p.train_fraction < 1.0) {
                    return Err(DataError::Invalid(format!(
                        "train fraction {} is not in (0, 1)",
                        p.train_fraction
                    )));
                }
                let n = train.len();
                let n_train = ((n as f64) * p.train_fraction + 1e-9).floor() as usize;
                if n_train == 0 || n_train >= n {
                    return Err(DataError::Invalid(format!(
                        "{} train split of {n} examples is too small to divide {}/{}",
                        train.task.name,
                        p.train_fraction,
                        1.0 - p.train_fraction
                    )));
                }
                let order = permutation(n, p.seed, 0);
                let (train_idx, valid_idx) = order.split_at(n_train);
                let cap = p.validation_cap.filter(|_| train.task.large);
                let keep = cap.map_or(valid_idx.len(), |c| c.min(valid_idx.len()));
                Ok(Splits {
                    validation: train.subset(&valid_idx[..keep]),
                    train: train.subset(train_idx),
                    test: Some(dev),
                    record: SplitRecord {
                        protocol: ProtocolKind::Paper,
                        seed: Some(p.seed),
                        train_fraction: Some(p.train_fraction),
                        validation_cap: cap,
                        official_train,
                        official_dev,
                        validation_dropped: valid_idx.len() - keep,
                    },
                })
            }
        }
    }

    /// Reads the official train and dev splits with `read` and applies the protocol, e.g.
    /// `protocol.load(|s| GlueTask::Rte.read(dir, s))`.
    pub fn load(&self, mut read: impl FnMut(Split) -> Result<Dataset>) -> Result<Splits> {
        let train = read(Split::Train)?;
        let dev = read(Split::Dev)?;
        self.apply(train, dev)
    }
}

/// A seeded permutation of `0..n`: Fisher–Yates over ChaCha8 seeded with `seed`, on the
/// ChaCha stream `stream` (the split uses stream 0, training epoch `e` stream `e + 1`).
pub fn permutation(n: usize, seed: u64, stream: u64) -> Vec<usize> {
    let mut rng = seeded_rng(seed);
    rng.set_stream(stream);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = below(&mut *rng, i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// A uniform draw from `0..n` (`n > 0`) by rejection on 64-bit words.
fn below(rng: &mut impl Rng, n: u64) -> u64 {
    let limit = u64::MAX - u64::MAX % n;
    loop {
        let x = rng.next_u64();
        if x < limit {
            return x % n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_permutations_and_depend_on_seed_and_stream() {
        let p = permutation(50, 7, 0);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_eq!(p, permutation(50, 7, 0));
        assert_ne!(p, permutation(50, 8, 0));
        assert_ne!(p, permutation(50, 7, 1));
        assert!(permutation(0, 1, 0).is_empty());
        assert_eq!(permutation(1, 1, 0), [0]);
    }
}
