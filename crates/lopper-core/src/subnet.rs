//! Which parts of an encoder a sub-network keeps.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Arch, CoreError, Result};

/// What one kept layer keeps: the indices of its attention heads and of its FFN units,
/// sorted and without repeats. Either list may be empty: a layer with no heads skips its
/// attention block, a layer with no units skips its feed-forward block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerKeep {
    /// Kept attention heads, ascending.
    pub heads: Vec<usize>,
    /// Kept FFN units, ascending.
    pub units: Vec<usize>,
}

impl LayerKeep {
    /// The first `heads` heads and the first `units` units.
    pub fn prefix(heads: usize, units: usize) -> Self {
        Self {
            heads: (0..heads).collect(),
            units: (0..units).collect(),
        }
    }

    /// Whether heads and units are both leading ranges `0..k` (then a forward pass can take a
    /// contiguous slice instead of gathering rows).
    pub fn is_prefix(&self) -> bool {
        is_range(&self.heads) && is_range(&self.units)
    }
}

fn is_range(indices: &[usize]) -> bool {
    indices.iter().enumerate().all(|(i, &v)| i == v)
}

/// A sub-network of an encoder: for each layer of the [`Arch`], either `None` (the layer is
/// dropped: the hidden state passes through) or the heads and units it keeps.
///
/// Indices rather than counts, so that non-prefix choices (importance-ordered heads, the
/// LARGE space's arbitrary masks) are expressible. A `Subnet` is plain data: it is passed to
/// a forward pass explicitly, hashed to cache evaluations, and serialised to JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subnet {
    layers: Vec<Option<LayerKeep>>,
}

impl Subnet {
    /// Builds a sub-network and checks it against `arch`: one entry per layer, indices in range,
    /// ascending and unique.
    pub fn new(arch: &Arch, layers: Vec<Option<LayerKeep>>) -> Result<Self> {
        let subnet = Self { layers };
        subnet.validate(arch)?;
        Ok(subnet)
    }

    /// The whole network.
    pub fn full(arch: &Arch) -> Self {
        Self {
            layers: vec![
                Some(LayerKeep::prefix(arch.num_heads, arch.intermediate_size));
                arch.num_layers
            ],
        }
    }

    /// First-k choices per layer: `None` drops the layer, `Some((h, u))` keeps its first `h`
    /// heads and first `u` units.
    pub fn from_counts(arch: &Arch, counts: &[Option<(usize, usize)>]) -> Result<Self> {
        let layers = counts
            .iter()
            .map(|c| c.map(|(h, u)| LayerKeep::prefix(h, u)))
            .collect();
        Self::new(arch, layers)
    }

    /// Checks this sub-network against `arch` (needed after deserialising one).
    pub fn validate(&self, arch: &Arch) -> Result<()> {
        if self.layers.len() != arch.num_layers {
            return Err(CoreError::InvalidSubnet(format!(
                "{} layer entries for an architecture of {} layers",
                self.layers.len(),
                arch.num_layers
            )));
        }
        for (l, keep) in self.layers.iter().enumerate() {
            let Some(keep) = keep else { continue };
            check_indices(l, "head", &keep.heads, arch.num_heads)?;
            check_indices(l, "unit", &keep.units, arch.intermediate_size)?;
        }
        Ok(())
    }

    /// One entry per layer of the architecture.
    pub fn layers(&self) -> &[Option<LayerKeep>] {
        &self.layers
    }

    /// Layers not dropped.
    pub fn num_kept_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.is_some()).count()
    }

    /// Kept heads of each layer (0 for a dropped layer).
    pub fn heads_per_layer(&self) -> Vec<usize> {
        self.layers
            .iter()
            .map(|l| l.as_ref().map_or(0, |k| k.heads.len()))
            .collect()
    }

    /// Kept units of each layer (0 for a dropped layer).
    pub fn units_per_layer(&self) -> Vec<usize> {
        self.layers
            .iter()
            .map(|l| l.as_ref().map_or(0, |k| k.units.len()))
            .collect()
    }

    /// Kept heads in all layers.
    pub fn total_heads(&self) -> usize {
        self.heads_per_layer().iter().sum()
    }

    /// Kept units in all layers.
    pub fn total_units(&self) -> usize {
        self.units_per_layer().iter().sum()
    }

    /// Whether every layer is kept whole.
    pub fn is_full(&self, arch: &Arch) -> bool {
        *self == Self::full(arch)
    }

    /// Whether every kept layer keeps leading ranges of heads and units.
    pub fn is_prefix(&self) -> bool {
        self.layers.iter().flatten().all(LayerKeep::is_prefix)
    }
}

fn check_indices(layer: usize, what: &str, indices: &[usize], bound: usize) -> Result<()> {
    if let Some(&bad) = indices.iter().find(|&&i| i >= bound) {
        return Err(CoreError::InvalidSubnet(format!(
            "layer {layer}: {what} index {bad} is out of range (the layer has {bound})"
        )));
    }
    if let Some(w) = indices.windows(2).find(|w| w[0] >= w[1]) {
        return Err(CoreError::InvalidSubnet(format!(
            "layer {layer}: {what} indices must be ascending and unique, found {} before {}",
            w[0], w[1]
        )));
    }
    Ok(())
}

/// A compact one-line summary: kept layers, then heads and units per layer (`-` for a dropped
/// layer), with `*` marking a layer whose choice is not a leading range.
impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} layers [", self.num_kept_layers())?;
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            match layer {
                None => write!(f, "-")?,
                Some(k) => {
                    write!(f, "{}h/{}u", k.heads.len(), k.units.len())?;
                    if !k.is_prefix() {
                        write!(f, "*")?;
                    }
                }
            }
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Arch {
        Arch {
            num_layers: 3,
            num_heads: 4,
            head_dim: 2,
            hidden_size: 8,
            intermediate_size: 6,
            vocab_size: 10,
            max_positions: 16,
            type_vocab_size: 2,
        }
    }

    #[test]
    fn full_and_counts() {
        let arch = tiny();
        let full = Subnet::full(&arch);
        assert!(full.is_full(&arch));
        assert!(full.is_prefix());
        assert_eq!(full.total_heads(), 12);
        assert_eq!(full.total_units(), 18);
        let s = Subnet::from_counts(&arch, &[Some((2, 3)), None, Some((0, 6))]).unwrap();
        assert_eq!(s.heads_per_layer(), vec![2, 0, 0]);
        assert_eq!(s.units_per_layer(), vec![3, 0, 6]);
        assert_eq!(s.num_kept_layers(), 2);
        assert_eq!(s.to_string(), "2 layers [2h/3u - 0h/6u]");
    }

    #[test]
    fn bad_subnets_are_refused() {
        let arch = tiny();
        assert!(Subnet::from_counts(&arch, &[None, None]).is_err());
        assert!(Subnet::from_counts(&arch, &[Some((5, 1)), None, None]).is_err());
        let unsorted = LayerKeep {
            heads: vec![2, 1],
            units: vec![],
        };
        let err = Subnet::new(&arch, vec![Some(unsorted), None, None]).unwrap_err();
        assert!(err.to_string().contains("ascending"), "{err}");
        let dup = LayerKeep {
            heads: vec![],
            units: vec![1, 1],
        };
        assert!(Subnet::new(&arch, vec![None, Some(dup), None]).is_err());
    }

    #[test]
    fn non_prefix_choices_are_marked() {
        let arch = tiny();
        let keep = LayerKeep {
            heads: vec![1, 3],
            units: vec![0, 1],
        };
        let s = Subnet::new(&arch, vec![Some(keep), None, None]).unwrap();
        assert!(!s.is_prefix());
        assert_eq!(s.to_string(), "1 layers [2h/2u* - -]");
        let json = serde_json::to_string(&s).unwrap();
        let back: Subnet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        back.validate(&arch).unwrap();
    }
}
