//! The [`Problem`] trait: a [`Space`] with objectives, a known Pareto front and the
//! hypervolume bookkeeping built on it; [`problem_by_name`] builds the standard ones.

use lopper_core::{Point, Space};

use crate::{Dtlz2, ProblemError, Result, Zdt, ZdtKind};

/// The names [`problem_by_name`] knows, in the order it lists them.
pub const PROBLEM_NAMES: [&str; 6] = ["zdt1", "zdt2", "zdt3", "dtlz2", "dtlz2-3", "zdt1-mixed"];

/// Builds a standard problem by name, with its default size:
///
/// | name | problem |
/// |---|---|
/// | `zdt1`, `zdt2`, `zdt3` | [`Zdt`] with 30 variables on the grid `0..=100` |
/// | `dtlz2` | [`Dtlz2`] with 2 objectives and 11 variables on the grid `0..=100` |
/// | `dtlz2-3` | [`Dtlz2`] with 3 objectives and 12 variables on the grid `0..=100` |
/// | `zdt1-mixed` | [`Zdt::mixed`]: ZDT1 over binary, ordinal, categorical and integer dimensions |
///
/// An unknown name is an error that lists the known ones.
pub fn problem_by_name(name: &str) -> Result<Box<dyn Problem>> {
    Ok(match name {
        "zdt1" => Box::new(Zdt::new(ZdtKind::Zdt1)?),
        "zdt2" => Box::new(Zdt::new(ZdtKind::Zdt2)?),
        "zdt3" => Box::new(Zdt::new(ZdtKind::Zdt3)?),
        "dtlz2" => Box::new(Dtlz2::new(2)?),
        "dtlz2-3" => Box::new(Dtlz2::new(3)?),
        "zdt1-mixed" => Box::new(Zdt::mixed()?),
        _ => {
            return Err(ProblemError::UnknownProblem {
                name: name.to_string(),
                known: PROBLEM_NAMES.iter().map(|s| s.to_string()).collect(),
            });
        }
    })
}

/// A multi-objective test problem on a discretised domain: a [`Space`] (its dimensions),
/// objective values to minimise, and its known Pareto front.
///
/// Two fronts matter. [`Problem::true_front`] samples the analytic front of the continuous
/// problem; [`Problem::optimal_front`] is the exact front of the discretised problem — the
/// best any optimizer can reach on the grid. Reference point and true hypervolume come from
/// the latter (see [`KnownFront`]), so [`Problem::hv_regret`] is never negative (up to
/// rounding) and is zero exactly when the discretised front is found.
pub trait Problem: Space {
    /// A short name (`zdt1`, `dtlz2-3`, …).
    fn name(&self) -> &str;

    /// Number of objectives.
    fn num_objectives(&self) -> usize;

    /// The objective values of `p`, all to be minimised. `p` is assumed to be a member of
    /// the space (see [`Space::validate`]): missing coordinates count as the lower bound.
    fn evaluate(&self, p: &Point) -> Vec<f64>;

    /// About `samples` points of the analytic Pareto front of the continuous problem (ZDT3's
    /// is disconnected: the samples are spread over its five pieces).
    fn true_front(&self, samples: usize) -> Vec<Vec<f64>>;

    /// The Pareto front of the discretised problem, with its reference point and hypervolume.
    fn known_front(&self) -> &KnownFront;

    /// The Pareto front of the discretised problem (every point reachable on the grid).
    fn optimal_front(&self) -> &[Vec<f64>] {
        &self.known_front().points
    }

    /// The reference point of every hypervolume: the nadir of [`Problem::optimal_front`]
    /// plus a tenth of the front's range in each objective (1.1 × the nadir when the ideal
    /// point is the origin, as for ZDT1, ZDT2 and DTLZ2: `(1.1, 1.1)`, `(1.1, 1.1, 1.1)`).
    fn reference_point(&self) -> Vec<f64> {
        self.known_front().reference.clone()
    }

    /// The hypervolume of [`Problem::optimal_front`] with respect to
    /// [`Problem::reference_point`]: the best hypervolume any set of points can reach.
    fn true_hypervolume(&self) -> f64 {
        self.known_front().hypervolume
    }

    /// The hypervolume of `values` (objective vectors; dominated ones and those outside the
    /// reference box add nothing) with respect to [`Problem::reference_point`].
    fn hypervolume(&self, values: &[Vec<f64>]) -> Result<f64> {
        Ok(lopper_pareto::hypervolume(
            values,
            &self.known_front().reference,
        )?)
    }

    /// The hypervolume regret of `values`: [`Problem::true_hypervolume`] minus their
    /// hypervolume. Non-negative up to rounding; zero when `values` cover the optimal front.
    fn hv_regret(&self, values: &[Vec<f64>]) -> Result<f64> {
        Ok(self.true_hypervolume() - self.hypervolume(values)?)
    }

    /// A synthetic multi-fidelity version of [`Problem::evaluate`], for testing
    /// multi-fidelity schedulers (MO-ASHA and the like). With `r = fidelity / max_fidelity`
    /// clamped to `[0, 1]`, objective `i` is
    ///
    /// `f_i(p) + (1 − r) · w_i · (1 + u_i(p)) / 2`
    ///
    /// where `w_i` is the range of objective `i` over [`Problem::optimal_front`] and
    /// `u_i(p) ∈ [0, 1)` is a deterministic hash of `p`'s coordinates and `i`. The bias is
    /// positive, shrinks linearly as the fidelity grows (like a learning curve), vanishes at
    /// `max_fidelity`, and differs between points, so low-fidelity rankings are informative
    /// but not exact. A non-positive `max_fidelity` counts as full fidelity.
    fn evaluate_at(&self, p: &Point, fidelity: f64, max_fidelity: f64) -> Vec<f64> {
        let r = if max_fidelity > 0.0 && fidelity.is_finite() {
            (fidelity / max_fidelity).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let known = self.known_front();
        self.evaluate(p)
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let width = known.nadir[i] - known.ideal[i];
                let width = if width > 0.0 { width } else { 1.0 };
                f + (1.0 - r) * width * (1.0 + unit_hash(p, i as u64)) / 2.0
            })
            .collect()
    }
}

/// The Pareto front of a discretised problem, with what is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownFront {
    /// The front's objective vectors.
    pub points: Vec<Vec<f64>>,
    /// Componentwise minimum of the front.
    pub ideal: Vec<f64>,
    /// Componentwise maximum of the front.
    pub nadir: Vec<f64>,
    /// `nadir + (nadir − ideal) / 10`.
    pub reference: Vec<f64>,
    /// The hypervolume of `points` with respect to `reference`.
    pub hypervolume: f64,
}

impl KnownFront {
    /// Derives ideal, nadir, reference point and hypervolume from a non-empty front of
    /// `num_objectives`-dimensional points.
    pub fn new(points: Vec<Vec<f64>>, num_objectives: usize) -> Result<Self> {
        if points.is_empty() || num_objectives == 0 {
            return Err(ProblemError::InvalidArgument(
                "a known front needs at least one point and one objective".into(),
            ));
        }
        let mut ideal = vec![f64::INFINITY; num_objectives];
        let mut nadir = vec![f64::NEG_INFINITY; num_objectives];
        for p in &points {
            for (i, &v) in p.iter().enumerate().take(num_objectives) {
                ideal[i] = ideal[i].min(v);
                nadir[i] = nadir[i].max(v);
            }
        }
        let reference: Vec<f64> = ideal
            .iter()
            .zip(&nadir)
            .map(|(lo, hi)| hi + (hi - lo) / 10.0)
            .collect();
        let hypervolume = lopper_pareto::hypervolume(&points, &reference)?;
        Ok(Self {
            points,
            ideal,
            nadir,
            reference,
            hypervolume,
        })
    }
}

/// A deterministic value in `[0, 1)` from the coordinates of `p` and a salt (SplitMix64
/// finalisers chained over the coordinates).
fn unit_hash(p: &Point, salt: u64) -> f64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let mut h = mix(salt);
    for &c in p.coords() {
        h = mix(h ^ c as u64);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_lists_known() {
        for name in PROBLEM_NAMES {
            let p = problem_by_name(name).unwrap();
            assert_eq!(p.name(), name);
            assert_eq!(p.reference_point().len(), p.num_objectives());
            assert!(p.true_hypervolume() > 0.0, "{name}");
        }
        let err = problem_by_name("zdt4").err().unwrap().to_string();
        assert!(err.contains("zdt4") && err.contains("dtlz2-3"), "{err}");
    }

    #[test]
    fn regret_is_zero_on_the_optimal_front_and_positive_elsewhere() {
        for name in PROBLEM_NAMES {
            let p = problem_by_name(name).unwrap();
            let front = p.optimal_front().to_vec();
            assert!(p.hv_regret(&front).unwrap().abs() < 1e-9, "{name}");
            let mid = p.evaluate(&p.mid_point());
            assert!(p.hv_regret(&[mid]).unwrap() > 0.0, "{name}");
            assert_eq!(p.hv_regret(&[]).unwrap(), p.true_hypervolume());
        }
    }

    #[test]
    fn fidelity_bias_shrinks_to_zero() {
        let p = problem_by_name("zdt1").unwrap();
        let x = p.mid_point();
        let full = p.evaluate(&x);
        assert_eq!(p.evaluate_at(&x, 10.0, 10.0), full);
        assert_eq!(p.evaluate_at(&x, 1.0, 0.0), full);
        let low = p.evaluate_at(&x, 1.0, 10.0);
        let mid = p.evaluate_at(&x, 5.0, 10.0);
        for i in 0..2 {
            assert!(
                low[i] > mid[i] && mid[i] > full[i],
                "{low:?} {mid:?} {full:?}"
            );
        }
        assert_eq!(low, p.evaluate_at(&x, 1.0, 10.0), "deterministic");
        let y = p.lower_bound();
        let bias = |q: &Point| p.evaluate_at(q, 0.0, 1.0)[0] - p.evaluate(q)[0];
        assert_ne!(bias(&x), bias(&y), "the bias depends on the point");
    }
}
