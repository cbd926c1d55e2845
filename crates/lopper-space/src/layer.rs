//! The LAYER space: one bit per layer.

use lopper_core::{Arch, Dim, LayerKeep, Point, Result, SearchSpace, Space, Subnet};
use rand::Rng;

use crate::Sampler;
use crate::sampler::{choose_k, fill_uniform};

/// LAYER: one bit per layer; a kept layer is kept whole, a dropped one is skipped.
#[derive(Debug, Clone)]
pub struct LayerSpace {
    arch: Arch,
    sampler: Sampler,
    dims: Vec<Dim>,
}

impl LayerSpace {
    /// LAYER over `arch`, drawing random points with `sampler`.
    pub fn new(arch: Arch, sampler: Sampler) -> Result<Self> {
        arch.validate()?;
        let dims = (0..arch.num_layers)
            .map(|l| Dim::binary(format!("layer.{l}")))
            .collect();
        Ok(Self {
            arch,
            sampler,
            dims,
        })
    }

    /// How random points are drawn.
    pub fn sampler(&self) -> Sampler {
        self.sampler
    }
}

impl Space for LayerSpace {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// No layer at all (embeddings, pooler and head only), as in the paper.
    fn smallest(&self) -> Point {
        self.lower_bound()
    }

    fn sample(&self, rng: &mut dyn Rng) -> Point {
        let mut bits = vec![0; self.dims.len()];
        match self.sampler {
            Sampler::Uniform => fill_uniform(&mut bits, rng),
            Sampler::Sparsity => {
                let k = rand::RngExt::random_range(rng, 0..=bits.len());
                choose_k(&mut bits, k, rng);
            }
        }
        Point(bits)
    }
}

impl SearchSpace for LayerSpace {
    fn name(&self) -> &str {
        "layer"
    }

    fn arch(&self) -> &Arch {
        &self.arch
    }

    fn decode(&self, p: &Point) -> Result<Subnet> {
        self.validate(p)?;
        let full = LayerKeep::prefix(self.arch.num_heads, self.arch.intermediate_size);
        let keep = p
            .coords()
            .iter()
            .map(|&b| (b == 1).then(|| full.clone()))
            .collect();
        Subnet::new(&self.arch, keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_drop_layers() {
        let s = LayerSpace::new(Arch::minilm_l6(), Sampler::Uniform).unwrap();
        let sub = s.decode(&Point(vec![1, 0, 1, 0, 0, 1])).unwrap();
        assert_eq!(sub.num_kept_layers(), 3);
        assert_eq!(sub.heads_per_layer(), [12, 0, 12, 0, 0, 12]);
        assert_eq!(s.decode(&s.smallest()).unwrap().num_kept_layers(), 0);
    }
}
