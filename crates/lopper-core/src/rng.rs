//! The seeded, serialisable random generator every random choice in lopper comes from.

use std::ops::{Deref, DerefMut};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// ChaCha8 (fast, and the same stream on every platform), with a JSON-friendly serialised
/// form so that it can live in an optimizer's checkpoint: the seed, the stream and the word
/// position (a 128-bit number, stored as a decimal string because JSON numbers are not).
///
/// It implements [`rand::Rng`] (through `DerefMut`), so `&mut SeededRng` goes wherever a
/// `&mut dyn Rng` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededRng(ChaCha8Rng);

/// A generator seeded from `seed`.
pub fn seeded_rng(seed: u64) -> SeededRng {
    SeededRng(ChaCha8Rng::seed_from_u64(seed))
}

impl Deref for SeededRng {
    type Target = ChaCha8Rng;
    fn deref(&self) -> &ChaCha8Rng {
        &self.0
    }
}

impl DerefMut for SeededRng {
    fn deref_mut(&mut self) -> &mut ChaCha8Rng {
        &mut self.0
    }
}

#[derive(Serialize, Deserialize)]
struct RngState {
    seed: [u8; 32],
    stream: u64,
    word_pos: String,
}

impl Serialize for SeededRng {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RngState {
            seed: self.0.get_seed(),
            stream: self.0.get_stream(),
            word_pos: self.0.get_word_pos().to_string(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for SeededRng {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let state = RngState::deserialize(d)?;
        let word_pos: u128 = state.word_pos.parse().map_err(serde::de::Error::custom)?;
        let mut rng = ChaCha8Rng::from_seed(state.seed);
        rng.set_stream(state.stream);
        rng.set_word_pos(word_pos);
        Ok(SeededRng(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn json_round_trip_continues_the_stream() {
        let mut a = seeded_rng(42);
        for _ in 0..13 {
            let _: u32 = a.random();
        }
        let json = serde_json::to_value(&a).unwrap();
        let mut b: SeededRng = serde_json::from_value(json).unwrap();
        let xs: Vec<u64> = (0..20).map(|_| a.random()).collect();
        let ys: Vec<u64> = (0..20).map(|_| b.random()).collect();
        assert_eq!(xs, ys);
        assert_ne!(seeded_rng(1).random::<u64>(), seeded_rng(2).random::<u64>());
    }
}
