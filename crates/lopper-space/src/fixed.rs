//! A space of one sub-network: what fine-tuning a fixed sub-network trains (the layer-dropping
//! and standard-NAS baselines fine-tune one candidate at a time, with the trainer that
//! fine-tunes super-networks: its largest and smallest member is that candidate).

use lopper_core::{Arch, CoreError, Dim, Point, Result, SearchSpace, Space, Subnet};

/// The space whose only member is one sub-network.
#[derive(Debug, Clone)]
pub struct FixedSpace {
    arch: Arch,
    subnet: Subnet,
    dims: Vec<Dim>,
}

impl FixedSpace {
    /// The space of `subnet` of `arch` alone.
    pub fn new(arch: Arch, subnet: Subnet) -> Result<Self> {
        subnet.validate(&arch)?;
        Ok(Self {
            arch,
            subnet,
            dims: vec![Dim::integer("fixed", 0, 0)],
        })
    }

    /// Its sub-network.
    pub fn subnet(&self) -> &Subnet {
        &self.subnet
    }
}

impl Space for FixedSpace {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }
}

impl SearchSpace for FixedSpace {
    fn name(&self) -> &str {
        "fixed"
    }

    fn arch(&self) -> &Arch {
        &self.arch
    }

    fn decode(&self, p: &Point) -> Result<Subnet> {
        self.validate(p)?;
        if p.0 != [0] {
            return Err(CoreError::InvalidPoint(format!(
                "the fixed space has the one point [0], not {p:?}"
            )));
        }
        Ok(self.subnet.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::LayerKeep;

    #[test]
    fn its_one_member_is_the_sub_network() {
        let arch = Arch {
            num_layers: 2,
            num_heads: 2,
            head_dim: 4,
            intermediate_size: 4,
            hidden_size: 8,
            vocab_size: 10,
            max_positions: 16,
            type_vocab_size: 2,
        };
        let subnet = Subnet::new(
            &arch,
            vec![
                Some(LayerKeep {
                    heads: vec![0, 1],
                    units: vec![0, 1, 2, 3],
                }),
                None,
            ],
        )
        .unwrap();
        let space = FixedSpace::new(arch, subnet.clone()).unwrap();
        assert_eq!(space.decode(&space.largest()).unwrap(), subnet);
        assert_eq!(space.decode(&space.smallest()).unwrap(), subnet);
        let mut rng = lopper_core::seeded_rng(0);
        assert_eq!(space.decode(&space.sample(&mut rng)).unwrap(), subnet);
        assert!(space.decode(&Point(vec![1])).is_err());
    }
}
