//! How binary spaces draw random members.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// How [`LayerSpace`](crate::LayerSpace) and [`LargeSpace`](crate::LargeSpace) draw random
/// points (the integer spaces always draw each dimension uniformly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// Each dimension uniformly: for many bits this concentrates near 50 % kept.
    #[default]
    Uniform,
    /// The paper's sampler: a number of kept positions uniform over its range, then that many
    /// positions uniformly at random, so every sparsity level is equally likely.
    Sparsity,
}

impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sampler::Uniform => "uniform",
            Sampler::Sparsity => "sparsity",
        })
    }
}

impl std::str::FromStr for Sampler {
    type Err = lopper_core::CoreError;
    fn from_str(s: &str) -> lopper_core::Result<Self> {
        match s {
            "uniform" => Ok(Sampler::Uniform),
            "sparsity" => Ok(Sampler::Sparsity),
            other => Err(lopper_core::CoreError::InvalidSpace(format!(
                "unknown sampler `{other}`: expected uniform or sparsity"
            ))),
        }
    }
}

/// Sets `k` uniformly chosen entries of `bits` to 1 and the rest to 0.
pub(crate) fn choose_k(bits: &mut [i64], k: usize, rng: &mut dyn Rng) {
    bits.fill(0);
    let n = bits.len();
    // Partial Fisher–Yates over an index array: exact and O(n).
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k.min(n) {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
        bits[idx[i]] = 1;
    }
}

/// Fills `bits` with independent fair coin flips, 64 at a time.
pub(crate) fn fill_uniform(bits: &mut [i64], rng: &mut dyn Rng) {
    for chunk in bits.chunks_mut(64) {
        let word = rng.next_u64();
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = ((word >> i) & 1) as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::seeded_rng;

    #[test]
    fn choose_k_sets_exactly_k() {
        let mut rng = seeded_rng(1);
        let mut bits = vec![0; 50];
        for k in [0, 1, 17, 50] {
            choose_k(&mut bits, k, &mut rng);
            assert_eq!(bits.iter().sum::<i64>(), k as i64);
        }
    }

    #[test]
    fn uniform_bits_are_roughly_fair() {
        let mut rng = seeded_rng(2);
        let mut bits = vec![0; 10_000];
        fill_uniform(&mut bits, &mut rng);
        let ones = bits.iter().sum::<i64>();
        assert!((4_700..5_300).contains(&ones), "{ones}");
    }
}
