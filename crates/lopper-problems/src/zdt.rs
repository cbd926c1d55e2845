//! The ZDT1, ZDT2 and ZDT3 problems (Zitzler, Deb and Thiele, "Comparison of Multiobjective
//! Evolutionary Algorithms: Empirical Results", Evolutionary Computation 8(2), 2000) on a
//! discretised domain.

use std::f64::consts::PI;

use lopper_core::{Dim, Point, Space};
use lopper_pareto::non_dominated;

use crate::{KnownFront, Problem, ProblemError, Result};

/// Which ZDT problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZdtKind {
    /// Convex front `f2 = 1 − √f1`.
    Zdt1,
    /// Concave front `f2 = 1 − f1²`.
    Zdt2,
    /// Front of five disconnected pieces, `f2 = 1 − √f1 − f1 sin(10π f1)`.
    Zdt3,
}

/// The ranges of `f1` (= `x1`) over which ZDT3's front lies (Deb, Multi-Objective
/// Optimization Using Evolutionary Algorithms, 2001).
const ZDT3_PIECES: [(f64, f64); 5] = [
    (0.0, 0.083_001_534_9),
    (0.182_228_728_0, 0.257_762_363_4),
    (0.409_313_674_8, 0.453_882_104_1),
    (0.618_396_794_4, 0.652_511_703_8),
    (0.823_331_798_3, 0.851_832_865_4),
];

impl ZdtKind {
    /// The problem's name (`zdt1`, …).
    pub fn name(self) -> &'static str {
        match self {
            ZdtKind::Zdt1 => "zdt1",
            ZdtKind::Zdt2 => "zdt2",
            ZdtKind::Zdt3 => "zdt3",
        }
    }

    /// The objectives for `f1 = x1` and the distance function `g ≥ 1`.
    pub fn objectives(self, f1: f64, g: f64) -> [f64; 2] {
        let h = match self {
            ZdtKind::Zdt1 => 1.0 - (f1 / g).sqrt(),
            ZdtKind::Zdt2 => 1.0 - (f1 / g).powi(2),
            ZdtKind::Zdt3 => 1.0 - (f1 / g).sqrt() - f1 / g * (10.0 * PI * f1).sin(),
        };
        [f1, g * h]
    }
}

/// A ZDT problem: `f1 = x1`, `f2 = g · h(f1, g)` with `g = 1 + 9 · mean(x2, …, xn)`.
///
/// Each variable is a dimension mapped to `[0, 1]` by [`Domain::to_unit`](lopper_core::Domain::to_unit):
/// with the default integer dimensions `0..=K`, `x = v / K`. Dimensions with a single value
/// take no part in `g`. The Pareto-optimal points have `x2 = … = xn = 0` (so `g = 1`) and
/// `x1` anywhere on its grid (for ZDT3, in one of the front's five pieces).
#[derive(Debug, Clone)]
pub struct Zdt {
    kind: ZdtKind,
    name: String,
    dims: Vec<Dim>,
    known: KnownFront,
}

impl Zdt {
    /// The standard number of variables.
    pub const DEFAULT_VARIABLES: usize = 30;
    /// The default grid: each variable is an integer `0..=100`.
    pub const DEFAULT_RESOLUTION: i64 = 100;

    /// The standard problem: 30 variables, each an integer `0..=100`.
    pub fn new(kind: ZdtKind) -> Result<Self> {
        Self::with_size(kind, Self::DEFAULT_VARIABLES, Self::DEFAULT_RESOLUTION)
    }

    /// `variables ≥ 2` variables, each an integer `0..=resolution` (`resolution ≥ 1`).
    pub fn with_size(kind: ZdtKind, variables: usize, resolution: i64) -> Result<Self> {
        if variables < 2 || resolution < 1 {
            return Err(ProblemError::InvalidArgument(format!(
                "{} needs at least 2 variables and a resolution of at least 1, not {variables} and {resolution}",
                kind.name()
            )));
        }
        let dims = (0..variables)
            .map(|i| Dim::integer(format!("x{}", i + 1), 0, resolution))
            .collect();
        Self::on_dims(kind, kind.name(), dims)
    }

    /// The problem over arbitrary dimensions: the first is `x1` and must hold at least two
    /// values; every dimension is mapped to `[0, 1]` with `Domain::to_unit`.
    pub fn on_dims(kind: ZdtKind, name: impl Into<String>, dims: Vec<Dim>) -> Result<Self> {
        let first = dims.first().ok_or_else(|| {
            ProblemError::InvalidArgument("a ZDT problem needs at least one dimension".into())
        })?;
        for d in &dims {
            d.domain.validate()?;
        }
        if first.domain.cardinality() < 2 {
            return Err(ProblemError::InvalidArgument(
                "the first dimension of a ZDT problem needs at least two values".into(),
            ));
        }
        // g = 1 at every dimension's lower bound (`to_unit` maps it to 0), so the optimal
        // front is h over the grid of x1, minus the dominated points (ZDT3).
        let (lo, hi) = first.domain.bounds();
        let candidates: Vec<Vec<f64>> = (lo..=hi)
            .map(|v| kind.objectives(first.domain.to_unit(v), 1.0).to_vec())
            .collect();
        let points = non_dominated(&candidates)
            .into_iter()
            .map(|i| candidates[i].clone())
            .collect();
        Ok(Self {
            kind,
            name: name.into(),
            known: KnownFront::new(points, 2)?,
            dims,
        })
    }

    /// ZDT1 over a mix of domain kinds, for testing optimizers on more than integers:
    /// `x1` is an ordinal over 11 unevenly spaced values, followed by binary, categorical,
    /// ordinal and integer dimensions (one of them holding a single value). Named
    /// `zdt1-mixed`.
    pub fn mixed() -> Result<Self> {
        let choices = |k: usize| (0..k).map(|i| format!("c{i}")).collect::<Vec<_>>();
        let dims = vec![
            Dim::ordinal(
                "x1",
                vec![0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 1.0],
            ),
            Dim::binary("b1"),
            Dim::categorical("c1", choices(4)),
            Dim::integer("i1", -5, 5),
            Dim::binary("b2"),
            Dim::ordinal("o1", vec![1.0, 2.0, 4.0, 8.0]),
            Dim::integer("fixed", 7, 7),
            Dim::categorical("c2", choices(3)),
            Dim::integer("i2", 0, 20),
            Dim::binary("b3"),
        ];
        Self::on_dims(ZdtKind::Zdt1, "zdt1-mixed", dims)
    }

    /// Which ZDT problem this is.
    pub fn kind(&self) -> ZdtKind {
        self.kind
    }
}

impl Space for Zdt {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }
}

impl Problem for Zdt {
    fn name(&self) -> &str {
        &self.name
    }

    fn num_objectives(&self) -> usize {
        2
    }

    fn evaluate(&self, p: &Point) -> Vec<f64> {
        let unit = |i: usize| {
            let d = &self.dims[i].domain;
            d.to_unit(p.coords().get(i).copied().unwrap_or(d.bounds().0))
        };
        let rest: Vec<f64> = (1..self.dims.len())
            .filter(|&i| self.dims[i].domain.cardinality() > 1)
            .map(unit)
            .collect();
        let g = if rest.is_empty() {
            1.0
        } else {
            1.0 + 9.0 * rest.iter().sum::<f64>() / rest.len() as f64
        };
        self.kind.objectives(unit(0), g).to_vec()
    }

    fn true_front(&self, samples: usize) -> Vec<Vec<f64>> {
        let pieces: &[(f64, f64)] = match self.kind {
            ZdtKind::Zdt3 => &ZDT3_PIECES,
            _ => &[(0.0, 1.0)],
        };
        let total: f64 = pieces.iter().map(|(a, b)| b - a).sum();
        (0..samples)
            .map(|j| {
                // Spread the samples evenly over the pieces' total length.
                let mut t = if samples > 1 {
                    total * j as f64 / (samples - 1) as f64
                } else {
                    0.0
                };
                let mut f1 = pieces[pieces.len() - 1].1;
                for &(a, b) in pieces {
                    if t <= b - a {
                        f1 = a + t;
                        break;
                    }
                    t -= b - a;
                }
                self.kind.objectives(f1, 1.0).to_vec()
            })
            .collect()
    }

    fn known_front(&self) -> &KnownFront {
        &self.known
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_pareto::dominates;

    #[test]
    fn optimal_points_evaluate_onto_the_front() {
        for kind in [ZdtKind::Zdt1, ZdtKind::Zdt2, ZdtKind::Zdt3] {
            let p = Zdt::with_size(kind, 5, 10).unwrap();
            let mut x = p.lower_bound();
            x.0[0] = 4;
            let v = p.evaluate(&x);
            assert_eq!(v, kind.objectives(0.4, 1.0).to_vec());
            assert!(v[1] <= p.evaluate(&Point(vec![4, 0, 3, 0, 0]))[1]);
            assert_eq!(
                p.evaluate(&p.upper_bound()),
                kind.objectives(1.0, 10.0).to_vec()
            );
        }
        assert!(Zdt::with_size(ZdtKind::Zdt1, 1, 10).is_err());
        assert!(Zdt::on_dims(ZdtKind::Zdt1, "z", vec![Dim::integer("x", 3, 3)]).is_err());
    }

    #[test]
    fn zdt1_reference_and_hypervolume() {
        let p = Zdt::new(ZdtKind::Zdt1).unwrap();
        assert_eq!(p.dims().len(), 30);
        assert_eq!(p.optimal_front().len(), 101);
        let r = p.reference_point();
        assert!(
            (r[0] - 1.1).abs() < 1e-12 && (r[1] - 1.1).abs() < 1e-12,
            "{r:?}"
        );
        // The continuous front's hypervolume is 1.21 − 1/3 = 0.87667; the grid loses a
        // little of it.
        let continuous = p.hypervolume(&p.true_front(100_001)).unwrap();
        assert!(
            (continuous - (1.21 - 1.0 / 3.0)).abs() < 1e-4,
            "{continuous}"
        );
        let hv = p.true_hypervolume();
        assert!(hv < continuous && hv > continuous - 0.01, "{hv}");
    }

    #[test]
    fn zdt3_front_is_disconnected_and_non_dominated() {
        let p = Zdt::new(ZdtKind::Zdt3).unwrap();
        let dense: Vec<Vec<f64>> = (0..=20_000)
            .map(|i| ZdtKind::Zdt3.objectives(i as f64 / 20_000.0, 1.0).to_vec())
            .collect();
        for q in p.true_front(500) {
            assert!(
                !dense.iter().any(|d| dominates(d, &q)),
                "{q:?} is dominated"
            );
            assert!(ZDT3_PIECES.iter().any(|(a, b)| (*a..=*b).contains(&q[0])));
        }
        // Gaps between the pieces are dominated.
        let gap = ZdtKind::Zdt3.objectives(0.13, 1.0);
        assert!(dense.iter().any(|d| dominates(d, &gap)));
        // The discretised front lies on the pieces too (x1 = 0.25 is inside the second).
        assert!(p.optimal_front().len() < 101);
        assert!(
            p.optimal_front()
                .iter()
                .any(|q| (q[0] - 0.25).abs() < 1e-12)
        );
        assert!(
            !p.optimal_front()
                .iter()
                .any(|q| (q[0] - 0.13).abs() < 1e-12)
        );
    }

    #[test]
    fn mixed_space_front() {
        let p = Zdt::mixed().unwrap();
        assert_eq!(p.optimal_front().len(), 11);
        let v = p.evaluate(&p.lower_bound());
        assert_eq!(v, vec![0.0, 1.0]);
        // The single-valued dimension does not enter g.
        let mut x = p.lower_bound();
        x.0[0] = 10;
        assert_eq!(p.evaluate(&x), vec![1.0, 0.0]);
    }
}
