//! The LARGE space: one bit per attention head and one per FFN unit.

use lopper_core::{Arch, Dim, LayerKeep, Point, Result, SearchSpace, Space, Subnet};
use rand::{Rng, RngExt};

use crate::Sampler;
use crate::sampler::{choose_k, fill_uniform};

/// LARGE: one bit per head and one bit per FFN unit of every layer (for BERT-base 144 + 36,864
/// = 37,008 binary dimensions). Coordinates hold all head bits first, layer by layer
/// (`head.l.h` at `l·heads + h`), then all unit bits, layer by layer (`unit.l.u` at
/// `layers·heads + l·units + u`). Sampling, decoding and mutation stay linear in the number of
/// bits, with no per-bit allocation.
#[derive(Debug, Clone)]
pub struct LargeSpace {
    arch: Arch,
    sampler: Sampler,
    dims: Vec<Dim>,
}

impl LargeSpace {
    /// LARGE over `arch`, drawing random points with `sampler`.
    pub fn new(arch: Arch, sampler: Sampler) -> Result<Self> {
        arch.validate()?;
        let heads = (0..arch.num_layers)
            .flat_map(|l| (0..arch.num_heads).map(move |h| Dim::binary(format!("head.{l}.{h}"))));
        let units = (0..arch.num_layers).flat_map(|l| {
            (0..arch.intermediate_size).map(move |u| Dim::binary(format!("unit.{l}.{u}")))
        });
        let dims = heads.chain(units).collect();
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

    fn head_bits(&self) -> usize {
        self.arch.total_heads()
    }
}

impl Space for LargeSpace {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }

    fn validate(&self, p: &Point) -> Result<()> {
        // Every dimension is binary: a length check and one pass, without the generic per-dim
        // domain lookups.
        if p.len() != self.dims.len() || p.coords().iter().any(|&b| !(0..=1).contains(&b)) {
            return p.validate(&self.dims);
        }
        Ok(())
    }

    /// The first head and the first unit of the first layer, as in the paper.
    fn smallest(&self) -> Point {
        let mut bits = vec![0; self.dims.len()];
        bits[0] = 1;
        bits[self.head_bits()] = 1;
        Point(bits)
    }

    /// Uniform bits, or (with [`Sampler::Sparsity`]) a number of kept heads uniform in
    /// `0..=heads` and a number of kept units uniform in `0..=units`, each at uniform positions.
    fn sample(&self, rng: &mut dyn Rng) -> Point {
        let mut bits = vec![0; self.dims.len()];
        let (heads, units) = bits.split_at_mut(self.head_bits());
        for part in [heads, units] {
            match self.sampler {
                Sampler::Uniform => fill_uniform(part, rng),
                Sampler::Sparsity => {
                    let k = rng.random_range(0..=part.len());
                    choose_k(part, k, rng);
                }
            }
        }
        Point(bits)
    }

    /// Flips one uniformly chosen bit.
    fn mutate(&self, p: &Point, rng: &mut dyn Rng) -> Point {
        let mut q = p.clone();
        if !q.0.is_empty() {
            let i = rng.random_range(0..q.0.len());
            q.0[i] = 1 - q.0[i];
        }
        q
    }
}

impl SearchSpace for LargeSpace {
    fn name(&self) -> &str {
        "large"
    }

    fn arch(&self) -> &Arch {
        &self.arch
    }

    fn decode(&self, p: &Point) -> Result<Subnet> {
        self.validate(p)?;
        let (nh, nu) = (self.arch.num_heads, self.arch.intermediate_size);
        let (heads, units) = p.coords().split_at(self.head_bits());
        let on = |bits: &[i64]| -> Vec<usize> {
            bits.iter()
                .enumerate()
                .filter(|(_, b)| **b == 1)
                .map(|(i, _)| i)
                .collect()
        };
        let keep = heads
            .chunks_exact(nh)
            .zip(units.chunks_exact(nu))
            .map(|(h, u)| {
                Some(LayerKeep {
                    heads: on(h),
                    units: on(u),
                })
            })
            .collect();
        Subnet::new(&self.arch, keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::seeded_rng;

    #[test]
    fn bert_base_has_37008_bits() {
        let s = LargeSpace::new(Arch::bert_base_cased(), Sampler::Uniform).unwrap();
        assert_eq!(s.dims().len(), 37_008);
        assert_eq!(s.dims()[144].name, "unit.0.0");
        let sub = s.decode(&s.smallest()).unwrap();
        assert_eq!(sub.total_heads(), 1);
        assert_eq!(sub.total_units(), 1);
        assert_eq!(sub.layers()[0].as_ref().unwrap().heads, [0]);
    }

    #[test]
    fn non_prefix_masks_decode_to_indices() {
        let arch = Arch {
            num_layers: 2,
            num_heads: 3,
            head_dim: 2,
            hidden_size: 6,
            intermediate_size: 4,
            ..Arch::minilm_l6()
        };
        let s = LargeSpace::new(arch, Sampler::Uniform).unwrap();
        let p = Point(vec![
            0, 1, 1, 1, 0, 0, /* units */ 1, 0, 0, 1, 0, 0, 0, 0,
        ]);
        let sub = s.decode(&p).unwrap();
        assert_eq!(sub.layers()[0].as_ref().unwrap().heads, [1, 2]);
        assert_eq!(sub.layers()[0].as_ref().unwrap().units, [0, 3]);
        assert_eq!(sub.layers()[1].as_ref().unwrap().heads, [0]);
        assert!(sub.layers()[1].as_ref().unwrap().units.is_empty());
        assert!(s.decode(&Point(vec![2; 14])).is_err());
    }

    #[test]
    fn sparsity_sampler_covers_all_levels() {
        let s = LargeSpace::new(Arch::minilm_l6(), Sampler::Sparsity).unwrap();
        let mut rng = seeded_rng(3);
        let fractions: Vec<f64> = (0..200)
            .map(|_| {
                let p = s.sample(&mut rng);
                p.coords().iter().sum::<i64>() as f64 / p.len() as f64
            })
            .collect();
        assert!(fractions.iter().any(|&f| f < 0.2));
        assert!(fractions.iter().any(|&f| f > 0.8));
    }
}
