//! The DTLZ2 problem (Deb, Thiele, Laumanns and Zitzler, "Scalable Test Problems for
//! Evolutionary Multiobjective Optimization", 2005) on a discretised domain.

use std::f64::consts::FRAC_PI_2;

use lopper_core::{Dim, Point, Space};

use crate::{KnownFront, Problem, ProblemError, Result};

/// The largest optimal front [`Dtlz2`] enumerates.
const MAX_FRONT: usize = 200_000;

/// DTLZ2 with `M` objectives: position variables `x1 … x(M−1)`, distance variables
/// `xM … xn`, `g = Σ (xi − 0.5)²` over the distance variables, and
///
/// `f1 = (1 + g) cos(x1 π/2) ⋯ cos(x(M−1) π/2)`, …, `fM = (1 + g) sin(x1 π/2)`.
///
/// Each variable is an integer `0..=K` mapped to `x = v / K`; the front is the positive
/// orthant of the unit sphere, reached with every distance variable at `K / 2` (for odd `K`
/// the grid misses 0.5 and the discretised front is a slightly larger sphere).
#[derive(Debug, Clone)]
pub struct Dtlz2 {
    objectives: usize,
    resolution: i64,
    name: String,
    dims: Vec<Dim>,
    known: KnownFront,
}

impl Dtlz2 {
    /// The default grid: each variable is an integer `0..=100`.
    pub const DEFAULT_RESOLUTION: i64 = 100;

    /// The standard problem with `objectives ≥ 2` objectives and `objectives + 9` variables,
    /// each an integer `0..=100`. Named `dtlz2` for two objectives and `dtlz2-M` otherwise.
    pub fn new(objectives: usize) -> Result<Self> {
        Self::with_size(objectives, objectives + 9, Self::DEFAULT_RESOLUTION)
    }

    /// `variables ≥ objectives ≥ 2` variables, each an integer `0..=resolution`. The optimal
    /// front enumerates the grid of the `objectives − 1` position variables, which must
    /// stay below 200,000 points.
    pub fn with_size(objectives: usize, variables: usize, resolution: i64) -> Result<Self> {
        let grid =
            (resolution.max(0) as usize + 1).checked_pow(objectives.saturating_sub(1) as u32);
        if objectives < 2 || variables < objectives || resolution < 1 {
            return Err(ProblemError::InvalidArgument(format!(
                "DTLZ2 needs at least 2 objectives, at least as many variables and a resolution of at least 1, not {objectives}, {variables} and {resolution}"
            )));
        }
        if grid.is_none_or(|g| g > MAX_FRONT) {
            return Err(ProblemError::InvalidArgument(format!(
                "DTLZ2 with {objectives} objectives on a grid of {} values per variable has too large an optimal front to enumerate",
                resolution + 1
            )));
        }
        let dims: Vec<Dim> = (0..variables)
            .map(|i| Dim::integer(format!("x{}", i + 1), 0, resolution))
            .collect();
        let name = if objectives == 2 {
            "dtlz2".to_string()
        } else {
            format!("dtlz2-{objectives}")
        };
        // The grid value closest to 0.5 minimises every distance term.
        let half = (resolution as f64 / 2.0).round() / resolution as f64;
        let g_min = (variables - objectives + 1) as f64 * (half - 0.5).powi(2);
        let positions = objectives - 1;
        let mut points = Vec::new();
        let mut x = vec![0i64; positions];
        loop {
            let unit: Vec<f64> = x.iter().map(|&v| v as f64 / resolution as f64).collect();
            points.push(sphere(&unit, objectives, 1.0 + g_min));
            // Odometer over the position grid.
            let Some(i) = x.iter().position(|&v| v < resolution) else {
                break;
            };
            x[i] += 1;
            x[..i].iter_mut().for_each(|v| *v = 0);
        }
        Ok(Self {
            objectives,
            resolution,
            name,
            dims,
            known: KnownFront::new(points, objectives)?,
        })
    }

    /// The grid's resolution `K`.
    pub fn resolution(&self) -> i64 {
        self.resolution
    }
}

/// The DTLZ2 objectives for position variables `x` (in `[0, 1]`) at radius `radius`.
fn sphere(x: &[f64], objectives: usize, radius: f64) -> Vec<f64> {
    (0..objectives)
        .map(|j| {
            let k = objectives - 1 - j;
            let cosines: f64 = x[..k].iter().map(|v| (v * FRAC_PI_2).cos()).product();
            let sine = if j == 0 {
                1.0
            } else {
                (x[k] * FRAC_PI_2).sin()
            };
            radius * cosines * sine
        })
        .collect()
}

impl Space for Dtlz2 {
    fn dims(&self) -> &[Dim] {
        &self.dims
    }
}

impl Problem for Dtlz2 {
    fn name(&self) -> &str {
        &self.name
    }

    fn num_objectives(&self) -> usize {
        self.objectives
    }

    fn evaluate(&self, p: &Point) -> Vec<f64> {
        let x: Vec<f64> = (0..self.dims.len())
            .map(|i| p.coords().get(i).copied().unwrap_or(0) as f64 / self.resolution as f64)
            .collect();
        let m = self.objectives;
        let g: f64 = x[m - 1..].iter().map(|v| (v - 0.5).powi(2)).sum();
        sphere(&x[..m - 1], m, 1.0 + g)
    }

    fn true_front(&self, samples: usize) -> Vec<Vec<f64>> {
        let m = self.objectives;
        if samples == 0 {
            return Vec::new();
        }
        // A grid of `side` angles per position variable: `side^(M−1)` ≈ `samples` points.
        let side = ((samples as f64).powf(1.0 / (m - 1) as f64).round() as usize).max(1);
        let step = |v: usize| {
            if side > 1 {
                v as f64 / (side - 1) as f64
            } else {
                0.0
            }
        };
        let mut out = Vec::new();
        let mut idx = vec![0usize; m - 1];
        loop {
            let x: Vec<f64> = idx.iter().map(|&v| step(v)).collect();
            out.push(sphere(&x, m, 1.0));
            let Some(i) = idx.iter().position(|&v| v + 1 < side) else {
                break;
            };
            idx[i] += 1;
            idx[..i].iter_mut().for_each(|v| *v = 0);
        }
        out
    }

    fn known_front(&self) -> &KnownFront {
        &self.known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_lies_on_the_unit_sphere() {
        for m in [2, 3] {
            let p = Dtlz2::new(m).unwrap();
            assert_eq!(p.dims().len(), m + 9);
            for f in p.true_front(400).iter().chain(p.optimal_front()) {
                let norm: f64 = f.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert!((norm - 1.0).abs() < 1e-12, "{f:?}");
            }
            assert!(p.reference_point().iter().all(|r| (r - 1.1).abs() < 1e-9));
            let mut x = p.mid_point();
            x.0[0] = 0;
            let v = p.evaluate(&x);
            let norm: f64 = v.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
            assert!(p.evaluate(&p.upper_bound()).iter().sum::<f64>() > 1.0);
        }
        assert_eq!(Dtlz2::new(3).unwrap().true_front(400).len(), 400);
        assert_eq!(Dtlz2::new(3).unwrap().optimal_front().len(), 101 * 101);
    }

    #[test]
    fn hypervolumes_match_the_sphere() {
        // HV of the unit quarter circle against (1.1, 1.1): 1.21 − π/4.
        let p = Dtlz2::new(2).unwrap();
        let exact = 1.21 - std::f64::consts::FRAC_PI_4;
        assert!((p.hypervolume(&p.true_front(100_000)).unwrap() - exact).abs() < 1e-4);
        assert!(p.true_hypervolume() < exact && p.true_hypervolume() > exact - 0.01);
        // Three objectives: 1.331 − π/6.
        let p = Dtlz2::new(3).unwrap();
        let exact = 1.331 - std::f64::consts::PI / 6.0;
        assert!(
            (p.true_hypervolume() - exact).abs() < 0.02,
            "{}",
            p.true_hypervolume()
        );
        assert!(Dtlz2::new(1).is_err());
        assert!(Dtlz2::with_size(5, 14, 100).is_err());
    }
}
