//! The MEDIUM space: a head count and a unit count per layer.

use lopper_core::{Arch, Dim, LayerKeep, Point, Result, SearchSpace, Space, Subnet};

/// MEDIUM: for each layer `l`, heads `h_l ∈ [0, heads]` and units `u_l ∈ [0, units]`; a point
/// keeps the first `h_l` heads and first `u_l` units of layer `l`. Coordinates are ordered
/// `heads.0, units.0, heads.1, units.1, …`. A layer with no heads skips its attention block and
/// one with no units skips its feed-forward block.
#[derive(Debug, Clone)]
pub struct MediumSpace {
    arch: Arch,
    dims: Vec<Dim>,
}

impl MediumSpace {
    /// MEDIUM over `arch`.
    pub fn new(arch: Arch) -> Result<Self> {
        arch.validate()?;
        let dims = (0..arch.num_layers)
            .flat_map(|l| {
                [
                    Dim::integer(format!("heads.{l}"), 0, arch.num_heads as i64),
                    Dim::integer(format!("units.{l}"), 0, arch.intermediate_size as i64),
                ]
            })
            .collect();
        Ok(Self { arch, dims })
    }
}

impl Space for MediumSpace {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// One head and one unit in every layer.
    fn smallest(&self) -> Point {
        Point(vec![1; self.dims.len()])
    }
}

impl SearchSpace for MediumSpace {
    fn name(&self) -> &str {
        "medium"
    }

    fn arch(&self) -> &Arch {
        &self.arch
    }

    fn decode(&self, p: &Point) -> Result<Subnet> {
        self.validate(p)?;
        let keep = p
            .coords()
            .chunks_exact(2)
            .map(|hu| Some(LayerKeep::prefix(hu[0] as usize, hu[1] as usize)))
            .collect();
        Subnet::new(&self.arch, keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_layer_counts() {
        let s = MediumSpace::new(Arch::minilm_l6()).unwrap();
        assert_eq!(s.dims().len(), 12);
        assert_eq!(s.dims()[1].name, "units.0");
        let p = Point(vec![12, 1536, 0, 5, 3, 0, 1, 1, 12, 1536, 6, 768]);
        let sub = s.decode(&p).unwrap();
        assert_eq!(sub.heads_per_layer(), [12, 0, 3, 1, 12, 6]);
        assert_eq!(sub.units_per_layer(), [1536, 5, 0, 1, 1536, 768]);
        assert_eq!(sub.num_kept_layers(), 6);
        assert!(s.decode(&Point(vec![13; 12])).is_err());
    }
}
