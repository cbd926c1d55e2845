//! Quality indicators of a point set (all objectives minimised), besides the
//! [`hypervolume`](crate::hypervolume):
//!
//! - [`igd_plus`]: the inverted generational distance plus (Ishibuchi et al. 2015), the
//!   mean over a reference front of the distance to the nearest point counting only the
//!   objectives in which the point is worse. It is weakly Pareto compliant; smaller is
//!   better.
//! - [`best_under_constraint`]: the best value of one objective among the points whose
//!   other objective is at most a threshold, over a grid of thresholds — the paper's
//!   comparison at fixed model sizes (best error among sub-networks with at most τ
//!   parameters).

use crate::error::{ParetoError, Result, check_points};

/// IGD+ of `points` against `reference_front`:
/// `(1/|Z|) Σ_{z ∈ Z} min_{a ∈ A} sqrt(Σ_i max(a_i - z_i, 0)²)`.
///
/// Returns `+inf` when `points` is empty. Errors:
/// [`EmptyReferenceFront`](ParetoError::EmptyReferenceFront), and points of either set
/// whose length differs from the reference front's first point, or with NaN (indices of
/// `points` count after those of `reference_front`).
pub fn igd_plus<P: AsRef<[f64]>, Q: AsRef<[f64]>>(
    points: &[P],
    reference_front: &[Q],
) -> Result<f64> {
    let d = match reference_front.first() {
        Some(z) => z.as_ref().len(),
        None => return Err(ParetoError::EmptyReferenceFront),
    };
    check_points(reference_front, d, 0)?;
    check_points(points, d, reference_front.len())?;
    if points.is_empty() {
        return Ok(f64::INFINITY);
    }
    let total: f64 = reference_front
        .iter()
        .map(|z| {
            let z = z.as_ref();
            points
                .iter()
                .map(|a| {
                    let a = a.as_ref();
                    a.iter()
                        .zip(z)
                        .map(|(a, z)| (a - z).max(0.0).powi(2))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .sum();
    Ok(total / reference_front.len() as f64)
}

/// For each threshold `τ` in `thresholds`, the smallest value of objective `objective`
/// among the points whose objective `constraint` is at most `τ`, or `None` when no point
/// qualifies (including a NaN `τ`). With `objective = 0` (error) and `constraint = 1`
/// (parameters) this is the paper's "best error at a given model size" curve; write
/// `.map(|b| b.unwrap_or(f64::NAN))` for a plain numeric series.
///
/// Runs in O((n + t) log n). Errors: points of different lengths (the first point's
/// length rules) or with NaN, and objective indices out of range (not checked when there
/// are no points).
pub fn best_under_constraint<P: AsRef<[f64]>>(
    points: &[P],
    objective: usize,
    constraint: usize,
    thresholds: &[f64],
) -> Result<Vec<Option<f64>>> {
    let Some(first) = points.first() else {
        return Ok(vec![None; thresholds.len()]);
    };
    let d = first.as_ref().len();
    check_points(points, d, 0)?;
    if let Some(&bad) = [objective, constraint].iter().find(|&&m| m >= d) {
        return Err(ParetoError::ObjectiveIndex {
            objective: bad,
            dimension: d,
        });
    }
    let mut pairs: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.as_ref()[constraint], p.as_ref()[objective]))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let constraints: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let prefix_best: Vec<f64> = pairs
        .iter()
        .scan(f64::INFINITY, |best, p| {
            *best = best.min(p.1);
            Some(*best)
        })
        .collect();
    Ok(thresholds
        .iter()
        .map(|&tau| {
            let k = constraints.partition_point(|&c| c <= tau);
            k.checked_sub(1).map(|last| prefix_best[last])
        })
        .collect())
}

/// The index of the point with the smallest value of objective `objective` among those whose
/// objectives stay within every `(constraint, limit)` (`point[constraint] <= limit`), or
/// `None` when no point qualifies: selecting one model under budgets (at most 50 % of the
/// parameters and 20 ms, say). Ties go to the earlier point.
///
/// Errors: points of different lengths (the first point's length rules) or with NaN, and
/// objective indices out of range (not checked when there are no points).
pub fn best_within<P: AsRef<[f64]>>(
    points: &[P],
    objective: usize,
    limits: &[(usize, f64)],
) -> Result<Option<usize>> {
    let Some(first) = points.first() else {
        return Ok(None);
    };
    let d = first.as_ref().len();
    check_points(points, d, 0)?;
    let indices = std::iter::once(objective).chain(limits.iter().map(|&(c, _)| c));
    for m in indices {
        if m >= d {
            return Err(ParetoError::ObjectiveIndex {
                objective: m,
                dimension: d,
            });
        }
    }
    let mut best: Option<(usize, f64)> = None;
    for (i, p) in points.iter().enumerate() {
        let p = p.as_ref();
        if limits.iter().all(|&(c, limit)| p[c] <= limit)
            && best.is_none_or(|(_, b)| p[objective] < b)
        {
            best = Some((i, p[objective]));
        }
    }
    Ok(best.map(|(i, _)| i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_within_budgets() {
        // (error, params, latency)
        let points = [
            [0.1, 0.9, 20.0],
            [0.2, 0.5, 12.0],
            [0.3, 0.4, 8.0],
            [0.2, 0.45, 9.0],
        ];
        assert_eq!(best_within(&points, 0, &[(1, 0.5)]).unwrap(), Some(1));
        assert_eq!(
            best_within(&points, 0, &[(1, 0.5), (2, 10.0)]).unwrap(),
            Some(3)
        );
        assert_eq!(best_within(&points, 1, &[(0, 0.2)]).unwrap(), Some(3));
        assert_eq!(best_within(&points, 0, &[(1, 0.1)]).unwrap(), None);
        assert_eq!(best_within(&points, 0, &[]).unwrap(), Some(0));
        assert_eq!(best_within::<[f64; 2]>(&[], 0, &[(1, 0.5)]).unwrap(), None);
        assert!(best_within(&points, 0, &[(3, 1.0)]).is_err());
    }

    #[test]
    fn igd_plus_examples() {
        let reference = [[0.0, 1.0], [1.0, 0.0]];
        assert_eq!(igd_plus(&reference, &reference).unwrap(), 0.0);
        // (0.5, 0.5) is 0.5 worse in one objective for each reference point.
        assert_eq!(igd_plus(&[[0.5, 0.5]], &reference).unwrap(), 0.5);
        // Being better never counts: a dominating set scores 0.
        assert_eq!(igd_plus(&[[-1.0, -1.0]], &reference).unwrap(), 0.0);
        // (1, 1): distances 1 and 1; (2, 2): sqrt(4 + 1) each.
        assert_eq!(
            igd_plus(&[[1.0, 1.0], [2.0, 2.0]], &reference).unwrap(),
            1.0
        );
        assert_eq!(
            igd_plus::<[f64; 2], _>(&[], &reference).unwrap(),
            f64::INFINITY
        );
        assert_eq!(
            igd_plus::<_, [f64; 2]>(&[[0.0, 0.0]], &[]),
            Err(ParetoError::EmptyReferenceFront)
        );
        assert_eq!(
            igd_plus(&[vec![0.0]], &reference),
            Err(ParetoError::DimensionMismatch {
                index: 2,
                expected: 2,
                found: 1
            })
        );
    }

    #[test]
    fn best_under_constraint_on_a_grid() {
        // (error, params)
        let points = [
            [0.30, 10.0],
            [0.20, 50.0],
            [0.25, 30.0],
            [0.10, 100.0],
            [0.40, 5.0],
        ];
        let taus = [1.0, 5.0, 20.0, 30.0, 75.0, 1000.0, f64::NAN];
        let best = best_under_constraint(&points, 0, 1, &taus).unwrap();
        assert_eq!(
            best,
            vec![
                None,
                Some(0.40),
                Some(0.30),
                Some(0.25),
                Some(0.20),
                Some(0.10),
                None
            ]
        );
        let none: [[f64; 2]; 0] = [];
        assert_eq!(
            best_under_constraint(&none, 0, 1, &[1.0]).unwrap(),
            vec![None]
        );
        assert_eq!(
            best_under_constraint(&points, 0, 2, &taus),
            Err(ParetoError::ObjectiveIndex {
                objective: 2,
                dimension: 2
            })
        );
    }
}
