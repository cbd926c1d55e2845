//! The optimizer's view of a search space: dimensions with typed domains, and points.

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// The values one dimension can take. Every coordinate of a [`Point`] is an `i64`: the value
/// itself for [`Domain::Integer`], 0 or 1 for [`Domain::Binary`], and an index into the list
/// for [`Domain::Ordinal`] and [`Domain::Categorical`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Domain {
    /// Integers `low..=high`.
    Integer {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
    },
    /// An ordered list of values; the coordinate is the index into `values`.
    Ordinal {
        /// The values, in their order.
        values: Vec<f64>,
    },
    /// Unordered choices; the coordinate is the index into `choices`.
    Categorical {
        /// The choices' names.
        choices: Vec<String>,
    },
    /// 0 or 1.
    Binary,
}

impl Domain {
    /// Smallest and largest coordinate.
    pub fn bounds(&self) -> (i64, i64) {
        match self {
            Domain::Integer { low, high } => (*low, *high),
            Domain::Ordinal { values } => (0, values.len() as i64 - 1),
            Domain::Categorical { choices } => (0, choices.len() as i64 - 1),
            Domain::Binary => (0, 1),
        }
    }

    /// How many values the domain holds.
    pub fn cardinality(&self) -> u64 {
        let (lo, hi) = self.bounds();
        (hi - lo + 1).max(0) as u64
    }

    /// Whether `v` is a coordinate of this domain.
    pub fn contains(&self, v: i64) -> bool {
        let (lo, hi) = self.bounds();
        (lo..=hi).contains(&v)
    }

    /// Checks that the domain holds at least one value.
    pub fn validate(&self) -> Result<()> {
        let ok = match self {
            Domain::Integer { low, high } => low <= high,
            Domain::Ordinal { values } => {
                !values.is_empty() && values.windows(2).all(|w| w[0] < w[1])
            }
            Domain::Categorical { choices } => !choices.is_empty(),
            Domain::Binary => true,
        };
        if ok {
            Ok(())
        } else {
            Err(CoreError::InvalidSpace(format!(
                "empty or unordered domain {self:?}"
            )))
        }
    }

    /// A uniformly random coordinate.
    pub fn sample(&self, rng: &mut dyn Rng) -> i64 {
        let (lo, hi) = self.bounds();
        rng.random_range(lo..=hi)
    }

    /// A uniformly random coordinate other than `v` (`v` itself when the domain has one value).
    pub fn sample_other(&self, v: i64, rng: &mut dyn Rng) -> i64 {
        let (lo, hi) = self.bounds();
        if hi <= lo {
            return lo;
        }
        // Draw from the domain without `v`, then shift past it.
        let draw = rng.random_range(lo..hi);
        if draw >= v { draw + 1 } else { draw }
    }

    /// The coordinate mapped to `[0, 1]` (ordinal by its values, the rest by position), the
    /// encoding model-based optimizers work in.
    pub fn to_unit(&self, v: i64) -> f64 {
        match self {
            Domain::Ordinal { values } if values.len() > 1 => {
                let (first, last) = (values[0], values[values.len() - 1]);
                let x = values.get(v.max(0) as usize).copied().unwrap_or(last);
                (x - first) / (last - first)
            }
            _ => {
                let (lo, hi) = self.bounds();
                if hi == lo {
                    0.5
                } else {
                    (v - lo) as f64 / (hi - lo) as f64
                }
            }
        }
    }

    /// The nearest coordinate to a unit-interval value (the inverse of [`Domain::to_unit`]).
    pub fn from_unit(&self, x: f64) -> i64 {
        let x = x.clamp(0.0, 1.0);
        match self {
            Domain::Ordinal { values } if values.len() > 1 => {
                let (first, last) = (values[0], values[values.len() - 1]);
                let target = first + x * (last - first);
                let mut best = 0;
                for (i, &v) in values.iter().enumerate() {
                    if (v - target).abs() < (values[best] - target).abs() {
                        best = i;
                    }
                }
                best as i64
            }
            _ => {
                let (lo, hi) = self.bounds();
                lo + (x * (hi - lo) as f64).round() as i64
            }
        }
    }
}

/// A named dimension of a search space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dim {
    /// Name, e.g. `layers` or `head_3_7`.
    pub name: String,
    /// What values it takes.
    pub domain: Domain,
}

impl Dim {
    /// A dimension of integers `low..=high`.
    pub fn integer(name: impl Into<String>, low: i64, high: i64) -> Self {
        Self {
            name: name.into(),
            domain: Domain::Integer { low, high },
        }
    }

    /// A binary dimension.
    pub fn binary(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            domain: Domain::Binary,
        }
    }

    /// An ordinal dimension over `values`.
    pub fn ordinal(name: impl Into<String>, values: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            domain: Domain::Ordinal { values },
        }
    }

    /// A categorical dimension over `choices`.
    pub fn categorical(name: impl Into<String>, choices: Vec<String>) -> Self {
        Self {
            name: name.into(),
            domain: Domain::Categorical { choices },
        }
    }
}

/// A point of a search space: one coordinate per dimension (see [`Domain`] for what a
/// coordinate means).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Point(pub Vec<i64>);

impl Point {
    /// Coordinates.
    pub fn coords(&self) -> &[i64] {
        &self.0
    }

    /// Number of coordinates.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the point has no coordinates.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks that the point has one coordinate per dimension, each inside its domain.
    pub fn validate(&self, dims: &[Dim]) -> Result<()> {
        if self.0.len() != dims.len() {
            return Err(CoreError::InvalidPoint(format!(
                "{} coordinates for a space of {} dimensions",
                self.0.len(),
                dims.len()
            )));
        }
        for (v, dim) in self.0.iter().zip(dims) {
            if !dim.domain.contains(*v) {
                let (lo, hi) = dim.domain.bounds();
                return Err(CoreError::InvalidPoint(format!(
                    "dimension `{}` is {v}, outside {lo}..={hi}",
                    dim.name
                )));
            }
        }
        Ok(())
    }
}

impl From<Vec<i64>> for Point {
    fn from(v: Vec<i64>) -> Self {
        Self(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn bounds_and_cardinality() {
        assert_eq!(Domain::Integer { low: 1, high: 12 }.cardinality(), 12);
        assert_eq!(Domain::Binary.bounds(), (0, 1));
        let ord = Domain::Ordinal {
            values: vec![1.0, 3.0, 6.0, 12.0],
        };
        assert_eq!(ord.bounds(), (0, 3));
        assert!((ord.to_unit(2) - 5.0 / 11.0).abs() < 1e-12);
        assert_eq!(ord.from_unit(ord.to_unit(2)), 2);
        assert!(Domain::Integer { low: 3, high: 2 }.validate().is_err());
        assert!(
            Domain::Ordinal {
                values: vec![3.0, 1.0]
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn sample_other_never_returns_the_input() {
        let mut rng = seeded_rng(7);
        let d = Domain::Integer { low: -2, high: 3 };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let v = d.sample_other(1, &mut rng);
            assert_ne!(v, 1);
            assert!(d.contains(v));
            seen.insert(v);
        }
        assert_eq!(seen.len(), 5, "every other value is reachable");
        assert_eq!(
            Domain::Integer { low: 4, high: 4 }.sample_other(4, &mut rng),
            4
        );
    }

    #[test]
    fn point_validation_names_the_dimension() {
        let dims = vec![Dim::integer("layers", 0, 12), Dim::binary("b")];
        Point(vec![3, 1]).validate(&dims).unwrap();
        let err = Point(vec![13, 1]).validate(&dims).unwrap_err();
        assert!(err.to_string().contains("layers"), "{err}");
        assert!(Point(vec![1]).validate(&dims).is_err());
    }
}
