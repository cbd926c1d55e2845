//! The SMALL space: three integers for the whole network.

use lopper_core::{Arch, Dim, LayerKeep, Point, Result, SearchSpace, Space, Subnet};
use serde::{Deserialize, Serialize};

/// How SMALL encodes the head count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadChoice {
    /// Any count in `1..=heads`.
    #[default]
    Integer,
    /// An ordinal over the halvings `{⌊heads / 2^i⌋}` (for 12 heads: 1, 3, 6, 12).
    Halvings,
}

/// SMALL: layers `L ∈ [0, layers]`, heads `H ∈ [1, heads]`, units `U ∈ [1, units]`. A point
/// keeps the first `L` layers and, in each, the first `H` heads and the first `U` units.
#[derive(Debug, Clone)]
pub struct SmallSpace {
    arch: Arch,
    heads: HeadChoice,
    head_values: Vec<usize>,
    dims: Vec<Dim>,
}

impl SmallSpace {
    /// SMALL over `arch` with the head count encoded as `heads`.
    pub fn new(arch: Arch, heads: HeadChoice) -> Result<Self> {
        arch.validate()?;
        let head_values: Vec<usize> = match heads {
            HeadChoice::Integer => (1..=arch.num_heads).collect(),
            HeadChoice::Halvings => {
                let mut v: Vec<usize> = (0..usize::BITS)
                    .map(|i| arch.num_heads >> i)
                    .take_while(|&h| h > 0)
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        };
        let head_dim = match heads {
            HeadChoice::Integer => Dim::integer("heads", 1, arch.num_heads as i64),
            HeadChoice::Halvings => {
                Dim::ordinal("heads", head_values.iter().map(|&h| h as f64).collect())
            }
        };
        let dims = vec![
            Dim::integer("layers", 0, arch.num_layers as i64),
            head_dim,
            Dim::integer("units", 1, arch.intermediate_size as i64),
        ];
        Ok(Self {
            arch,
            heads,
            head_values,
            dims,
        })
    }

    /// How the head count is encoded.
    pub fn head_choice(&self) -> HeadChoice {
        self.heads
    }

    /// The point keeping `layers` layers of `heads` heads and `units` units, if it is one.
    pub fn point(&self, layers: usize, heads: usize, units: usize) -> Result<Point> {
        let head_coord = match self.heads {
            HeadChoice::Integer => heads as i64,
            HeadChoice::Halvings => match self.head_values.iter().position(|&h| h == heads) {
                Some(i) => i as i64,
                None => {
                    return Err(lopper_core::CoreError::InvalidPoint(format!(
                        "{heads} heads is not one of {:?}",
                        self.head_values
                    )));
                }
            },
        };
        let p = Point(vec![layers as i64, head_coord, units as i64]);
        self.validate(&p)?;
        Ok(p)
    }
}

impl Space for SmallSpace {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// One layer with one head and one unit (the paper's smallest sub-network).
    fn smallest(&self) -> Point {
        // The head dimension's lower bound is one head in both encodings.
        Point(vec![1, self.dims[1].domain.bounds().0, 1])
    }
}

impl SearchSpace for SmallSpace {
    fn name(&self) -> &str {
        match self.heads {
            HeadChoice::Integer => "small",
            HeadChoice::Halvings => "small-halvings",
        }
    }

    fn arch(&self) -> &Arch {
        &self.arch
    }

    fn decode(&self, p: &Point) -> Result<Subnet> {
        self.validate(p)?;
        let c = p.coords();
        let layers = c[0] as usize;
        let heads = match self.heads {
            HeadChoice::Integer => c[1] as usize,
            HeadChoice::Halvings => self.head_values[c[1] as usize],
        };
        let units = c[2] as usize;
        let keep = (0..self.arch.num_layers)
            .map(|l| (l < layers).then(|| LayerKeep::prefix(heads, units)))
            .collect();
        Subnet::new(&self.arch, keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bert_base_ranges() {
        let s = SmallSpace::new(Arch::bert_base_cased(), HeadChoice::Integer).unwrap();
        assert_eq!(s.upper_bound(), Point(vec![12, 12, 3072]));
        assert_eq!(s.lower_bound(), Point(vec![0, 1, 1]));
        assert_eq!(s.smallest(), Point(vec![1, 1, 1]));
        let sub = s.decode(&Point(vec![4, 6, 100])).unwrap();
        assert_eq!(sub.heads_per_layer(), [6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(sub.units_per_layer()[3], 100);
        assert_eq!(sub.num_kept_layers(), 4);
        assert!(s.decode(&Point(vec![13, 1, 1])).is_err());
    }

    #[test]
    fn halvings_of_twelve_heads() {
        let s = SmallSpace::new(Arch::bert_base_cased(), HeadChoice::Halvings).unwrap();
        assert_eq!(s.head_values, vec![1, 3, 6, 12]);
        assert_eq!(s.upper_bound(), Point(vec![12, 3, 3072]));
        assert_eq!(s.smallest(), Point(vec![1, 0, 1]));
        let p = s.point(2, 6, 10).unwrap();
        assert_eq!(s.decode(&p).unwrap().heads_per_layer()[..3], [6, 6, 0]);
        assert!(s.point(2, 5, 10).is_err());
    }
}
