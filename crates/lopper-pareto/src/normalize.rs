//! Putting objectives on a common scale: min-max normalisation with given bounds, and the
//! quantile normalisation of the paper's comparison protocol.
//!
//! The protocol (Klein et al. 2024, following the multi-objective NAS benchmarks of
//! syne-tune): to compare several runs, pool all their points; transform each objective
//! by its empirical quantile over the pool ([`quantile_transform`]); then compute each
//! run's hypervolume with reference point `(2, 2, …)` ([`quantile_hypervolumes`]). The
//! transform makes objectives of very different scales (error, parameter count) count
//! alike, and is invariant under any strictly increasing rescaling of an objective.

use crate::error::{ParetoError, Result, check_points, check_vector};
use crate::hypervolume::hypervolume_unchecked;

/// Min-max normalisation: objective `m` of each point becomes
/// `(x - lower[m]) / (upper[m] - lower[m])`, so the box `[lower, upper]` maps to
/// `[0, 1]^d`. Values outside the bounds map outside `[0, 1]` (nothing is clipped).
///
/// Errors: bounds of different lengths or with NaN, a bound pair without
/// `lower < upper` (both finite), points of another length or with NaN.
pub fn normalize<P: AsRef<[f64]>>(
    points: &[P],
    lower: &[f64],
    upper: &[f64],
) -> Result<Vec<Vec<f64>>> {
    let d = lower.len();
    check_vector(lower, "lower bound", Some(d))?;
    check_vector(upper, "upper bound", Some(d))?;
    for (objective, (&lo, &hi)) in lower.iter().zip(upper).enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(ParetoError::InvalidBounds {
                objective,
                lower: lo,
                upper: hi,
            });
        }
    }
    check_points(points, d, 0)?;
    Ok(points
        .iter()
        .map(|p| {
            let p = p.as_ref();
            (0..d)
                .map(|m| (p[m] - lower[m]) / (upper[m] - lower[m]))
                .collect()
        })
        .collect())
}

/// The quantile transform of several runs over their pooled points, returned run by run
/// in the input's shape.
///
/// Exactly: let `N` be the number of pooled points. For objective `m`, a value `v` that
/// `less` pooled values are smaller than and `equal` pooled values equal (itself
/// included) becomes
///
/// `u = (less + (equal - 1) / 2) / (N - 1)`,
///
/// the average of the 0-based ranks of its ties divided by `N - 1`. The smallest value maps
/// to 0 and the largest to 1 when they are unique; ties share the mid-rank; a constant
/// objective maps to 0.5 everywhere, and so does a lone point (`N = 1`). This is what
/// scikit-learn's `QuantileTransformer` (uniform output) computes when it keeps one
/// quantile per sample, i.e. when `N <= n_quantiles`. Infinite values are ranked like any
/// other; NaN is an error.
///
/// Errors: points whose length differs from the first pooled point's, or NaN (indices
/// count pooled points, run after run).
pub fn quantile_transform<R, P>(runs: &[R]) -> Result<Vec<Vec<Vec<f64>>>>
where
    R: AsRef<[P]>,
    P: AsRef<[f64]>,
{
    let pooled: Vec<&[f64]> = runs
        .iter()
        .flat_map(|run| run.as_ref().iter().map(AsRef::as_ref))
        .collect();
    let d = pooled.first().map_or(0, |p| p.len());
    check_points(&pooled, d, 0)?;
    let n = pooled.len();
    let mut transformed: Vec<Vec<f64>> = vec![vec![0.0; d]; n];
    let mut sorted = vec![0.0; n];
    for m in 0..d {
        for (s, p) in sorted.iter_mut().zip(&pooled) {
            *s = p[m];
        }
        // Sorted by the total order, the values are also non-decreasing under `<=`.
        sorted.sort_unstable_by(f64::total_cmp);
        for (t, p) in transformed.iter_mut().zip(&pooled) {
            let v = p[m];
            let less = sorted.partition_point(|x| *x < v);
            let equal = sorted.partition_point(|x| *x <= v) - less;
            t[m] = if n > 1 {
                (less as f64 + (equal as f64 - 1.0) / 2.0) / (n as f64 - 1.0)
            } else {
                0.5
            };
        }
    }
    let mut rest = transformed.into_iter();
    Ok(runs
        .iter()
        .map(|run| rest.by_ref().take(run.as_ref().len()).collect())
        .collect())
}

/// The paper's comparison: the hypervolume of each run after [`quantile_transform`] over
/// all runs, with reference point `(2, 2, …)`. An empty run scores 0.
///
/// Errors as [`quantile_transform`].
pub fn quantile_hypervolumes<R, P>(runs: &[R]) -> Result<Vec<f64>>
where
    R: AsRef<[P]>,
    P: AsRef<[f64]>,
{
    let transformed = quantile_transform(runs)?;
    let d = transformed.iter().flatten().next().map_or(0, Vec::len);
    let reference = vec![2.0; d];
    Ok(transformed
        .iter()
        .map(|run| hypervolume_unchecked(run.iter().map(Vec::as_slice), &reference))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max() {
        let points = [[1.0, 10.0], [3.0, 30.0]];
        let n = normalize(&points, &[1.0, 10.0], &[3.0, 50.0]).unwrap();
        assert_eq!(n, vec![vec![0.0, 0.0], vec![1.0, 0.5]]);
        assert_eq!(
            normalize(&points, &[1.0, 10.0], &[3.0, 10.0]),
            Err(ParetoError::InvalidBounds {
                objective: 1,
                lower: 10.0,
                upper: 10.0
            })
        );
        assert!(matches!(
            normalize(&points, &[1.0], &[3.0, 10.0]),
            Err(ParetoError::VectorLength {
                what: "upper bound",
                ..
            })
        ));
        assert!(matches!(
            normalize(&[[1.0]], &[0.0, 0.0], &[1.0, 1.0]),
            Err(ParetoError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn quantiles_with_ties() {
        // Pooled first objective: 1, 2, 2, 4, 8 (N = 5); ranks 0, 1.5, 1.5, 3, 4 over 4.
        let runs = vec![
            vec![[1.0, 0.0], [2.0, 0.0]],
            vec![[2.0, 0.0], [8.0, 0.0], [4.0, 0.0]],
        ];
        let t = quantile_transform(&runs).unwrap();
        let first: Vec<Vec<f64>> = t.iter().map(|r| r.iter().map(|p| p[0]).collect()).collect();
        assert_eq!(first, vec![vec![0.0, 0.375], vec![0.375, 1.0, 0.75]]);
        // The constant second objective maps to 0.5.
        assert!(t.iter().flatten().all(|p| p[1] == 0.5));
        let lone = quantile_transform(&[vec![[7.0]]]).unwrap();
        assert_eq!(lone, vec![vec![vec![0.5]]]);
        let empty: Vec<Vec<[f64; 2]>> = vec![vec![], vec![]];
        assert_eq!(
            quantile_transform(&empty).unwrap(),
            vec![Vec::<Vec<f64>>::new(); 2]
        );
    }

    #[test]
    fn quantile_hypervolume_of_two_runs() {
        // Pooled ranks over 3: first objective 0.1..0.4 -> 0, 1/3, 2/3, 1; second
        // objective 50, 100, 150, 200 -> 0, 1/3, 2/3, 1.
        let a = vec![vec![0.1, 100.0], vec![0.2, 50.0]];
        let b = vec![vec![0.3, 200.0], vec![0.4, 150.0]];
        let hv = quantile_hypervolumes(&[a, b.clone()]).unwrap();
        // a: (0, 1/3) and (1/3, 0) -> 2 * 5/3 + 5/3 * 1/3 = 35/9.
        // b: (2/3, 1) and (1, 2/3) -> 4/3 * 1 + 1 * 1/3 = 5/3.
        assert!((hv[0] - 35.0 / 9.0).abs() < 1e-12 && (hv[1] - 5.0 / 3.0).abs() < 1e-12);
        // Strictly increasing rescaling of an objective changes nothing.
        let scaled: Vec<Vec<f64>> = b.iter().map(|p| vec![p[0] * 3.0, p[1].ln()]).collect();
        let a2 = vec![vec![0.3, 100f64.ln()], vec![0.6, 50f64.ln()]];
        assert_eq!(quantile_hypervolumes(&[a2, scaled]).unwrap(), hv);
        assert_eq!(
            quantile_hypervolumes::<Vec<Vec<f64>>, Vec<f64>>(&[]).unwrap(),
            Vec::<f64>::new()
        );
        assert!(matches!(
            quantile_hypervolumes(&[vec![vec![0.0, 1.0]], vec![vec![0.0]]]),
            Err(ParetoError::DimensionMismatch { index: 1, .. })
        ));
    }
}
