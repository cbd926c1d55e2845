//! Exact hypervolume (minimisation) with respect to a reference point.
//!
//! The hypervolume of a point set is the Lebesgue measure of the region its points
//! dominate and the reference point bounds: the union of the boxes `[p, r]`. Only points
//! that strictly dominate the reference (better in every objective) span a box of positive
//! volume; the others are ignored. Dominated points and duplicates are allowed and add
//! nothing.
//!
//! | objectives | algorithm | time |
//! |---|---|---|
//! | 1 | `r - min` | O(n) |
//! | 2 | sort and sweep | O(n log n) |
//! | 3 | dimension sweep with a balanced tree (Beume et al. 2009) | O(n log n) |
//! | ≥ 4 | WFG (While, Bradstreet, Barone 2012), recursing down to the 3-D sweep | exponential in the worst case, fast in practice |
//!
//! Infinities: a point with a `+inf` objective never strictly dominates a finite reference
//! and is ignored; if a counted point has a `-inf` objective, or the reference has a `+inf`
//! coordinate and some point strictly dominates it, the hypervolume is `+inf`. NaN is an
//! error.

mod hv2;
mod hv3;
mod wfg;

use crate::dominance::{strictly_dominates, weakly_dominates};
use crate::error::{Result, check_points, check_vector};

/// The hypervolume of `points` with respect to `reference`, all objectives minimised.
///
/// `points` may be `Vec<f64>`s, slices or arrays; each must have as many objectives as
/// `reference`. Errors: [`EmptyReference`](crate::ParetoError::EmptyReference),
/// [`DimensionMismatch`](crate::ParetoError::DimensionMismatch),
/// [`NanPoint`](crate::ParetoError::NanPoint), [`NanVector`](crate::ParetoError::NanVector).
///
/// ```
/// let front = [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]];
/// assert_eq!(lopper_pareto::hypervolume(&front, &[2.0, 2.0])?, 3.25);
/// # Ok::<(), lopper_pareto::ParetoError>(())
/// ```
pub fn hypervolume<P: AsRef<[f64]>>(points: &[P], reference: &[f64]) -> Result<f64> {
    check_vector(reference, "reference", None)?;
    check_points(points, reference.len(), 0)?;
    Ok(hypervolume_unchecked(
        points.iter().map(AsRef::as_ref),
        reference,
    ))
}

/// The exclusive contribution of `point` to `front`: `HV(front ∪ {point}) - HV(front)`,
/// computed as the volume of `point`'s box minus the hypervolume of `front` limited to
/// that box (each member replaced by its componentwise maximum with `point`).
///
/// It is zero when `point` does not strictly dominate `reference` or some member of
/// `front` weakly dominates it, and `+inf` when `point`'s own box is infinite. Errors as
/// [`hypervolume`], with `point` checked first (as index 0) and then `front`.
pub fn exclusive_contribution<P: AsRef<[f64]>>(
    point: &[f64],
    front: &[P],
    reference: &[f64],
) -> Result<f64> {
    check_vector(reference, "reference", None)?;
    check_points(&[point], reference.len(), 0)?;
    check_points(front, reference.len(), 0)?;
    Ok(exclusive_unchecked(
        point,
        front.iter().map(AsRef::as_ref),
        reference,
    ))
}

/// [`exclusive_contribution`] on checked input.
pub(crate) fn exclusive_unchecked<'a>(
    point: &[f64],
    front: impl IntoIterator<Item = &'a [f64]>,
    reference: &[f64],
) -> f64 {
    if !strictly_dominates(point, reference) {
        return 0.0;
    }
    let inclusive: f64 = point.iter().zip(reference).map(|(p, r)| r - p).product();
    if inclusive.is_infinite() {
        return f64::INFINITY;
    }
    let mut limited: Vec<Vec<f64>> = Vec::new();
    for q in front {
        if weakly_dominates(q, point) {
            return 0.0;
        }
        limited.push(point.iter().zip(q).map(|(a, b)| a.max(*b)).collect());
    }
    let covered = hypervolume_unchecked(limited.iter().map(Vec::as_slice), reference);
    (inclusive - covered).max(0.0)
}

/// [`hypervolume`] on checked input (matching lengths, no NaN).
pub(crate) fn hypervolume_unchecked<'a>(
    points: impl IntoIterator<Item = &'a [f64]>,
    reference: &[f64],
) -> f64 {
    // Adding 0.0 turns -0.0 into 0.0, which the sweeps' total orders rely on.
    let reference: Vec<f64> = reference.iter().map(|r| r + 0.0).collect();
    let mut flat = Vec::new();
    let mut min_first = f64::INFINITY;
    let mut infinite = reference.iter().any(|r| r.is_infinite());
    for p in points {
        if strictly_dominates(p, &reference) {
            infinite |= p.iter().any(|v| v.is_infinite());
            min_first = min_first.min(p[0]);
            flat.extend(p.iter().map(|v| v + 0.0));
        }
    }
    if flat.is_empty() {
        0.0
    } else if infinite {
        f64::INFINITY
    } else if reference.len() == 1 {
        reference[0] - min_first
    } else {
        wfg::hv(&flat, &reference)
    }
}

/// Brute force for tests: split space at every distinct coordinate and add the cells whose
/// lower corner some point weakly dominates. O(n^(d+1)).
#[cfg(test)]
pub(crate) fn brute_force(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let d = reference.len();
    let inside: Vec<&Vec<f64>> = points
        .iter()
        .filter(|p| strictly_dominates(p, reference))
        .collect();
    let grids: Vec<Vec<f64>> = (0..d)
        .map(|m| {
            let mut g: Vec<f64> = inside.iter().map(|p| p[m]).chain([reference[m]]).collect();
            g.sort_by(f64::total_cmp);
            g.dedup();
            g
        })
        .collect();
    let mut total = 0.0;
    let mut cell = vec![0usize; d];
    'cells: loop {
        if grids.iter().zip(&cell).all(|(g, &c)| c + 1 < g.len()) {
            let corner: Vec<f64> = (0..d).map(|m| grids[m][cell[m]]).collect();
            if inside.iter().any(|p| weakly_dominates(p, &corner)) {
                total += (0..d)
                    .map(|m| grids[m][cell[m] + 1] - corner[m])
                    .product::<f64>();
            }
        }
        for m in 0..d {
            cell[m] += 1;
            if cell[m] < grids[m].len() {
                continue 'cells;
            }
            cell[m] = 0;
        }
        return total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ParetoError;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn known_values() {
        let front = vec![vec![0.0, 1.0], vec![0.5, 0.5], vec![1.0, 0.0]];
        assert_eq!(hypervolume(&front, &[2.0, 2.0]).unwrap(), 3.25);
        let slices: Vec<&[f64]> = front.iter().map(Vec::as_slice).collect();
        assert_eq!(hypervolume(&slices, &[2.0, 2.0]).unwrap(), 3.25);
        let three = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(hypervolume(&three, &[2.0; 3]).unwrap(), 7.0);
        // (0,0,0,1): 2*2*2*1 = 8; (1,1,1,0): 1*1*1*2 = 2; overlap [1,2]^4 = 1.
        let four = [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]];
        assert_eq!(hypervolume(&four, &[2.0; 4]).unwrap(), 9.0);
        assert_eq!(hypervolume(&[[3.0], [1.5], [2.5]], &[2.0]).unwrap(), 0.5);
        assert_eq!(hypervolume::<[f64; 2]>(&[], &[1.0, 1.0]).unwrap(), 0.0);
    }

    #[test]
    fn points_on_or_beyond_the_reference_are_ignored() {
        let points = [[0.0, 2.0], [2.0, 0.0], [1.0, 1.0], [f64::INFINITY, 0.0]];
        assert_eq!(hypervolume(&points, &[2.0, 2.0]).unwrap(), 1.0);
        let infinite = [[f64::NEG_INFINITY, 1.0]];
        assert_eq!(hypervolume(&infinite, &[2.0, 2.0]).unwrap(), f64::INFINITY);
        assert_eq!(
            hypervolume(&[[0.0, 0.0]], &[f64::INFINITY, 1.0]).unwrap(),
            f64::INFINITY
        );
        assert_eq!(
            hypervolume(&[[-0.0, 0.0], [0.0, -0.0]], &[1.0, -0.0]).unwrap(),
            0.0
        );
    }

    #[test]
    fn errors() {
        assert_eq!(hypervolume(&[[0.0]], &[]), Err(ParetoError::EmptyReference));
        assert_eq!(
            hypervolume(&[vec![0.0, 0.0], vec![0.0]], &[1.0, 1.0]),
            Err(ParetoError::DimensionMismatch {
                index: 1,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            hypervolume(&[[0.0, f64::NAN]], &[1.0, 1.0]),
            Err(ParetoError::NanPoint {
                index: 0,
                objective: 1
            })
        );
        assert_eq!(
            hypervolume(&[[0.0, 0.0]], &[f64::NAN, 1.0]),
            Err(ParetoError::NanVector {
                what: "reference",
                objective: 0
            })
        );
    }

    #[test]
    fn exclusive_contribution_examples() {
        let front = [[0.0, 1.0], [1.0, 0.0]];
        let c = exclusive_contribution(&[0.5, 0.5], &front, &[2.0, 2.0]).unwrap();
        assert_eq!(c, 0.25);
        assert_eq!(
            exclusive_contribution(&[1.0, 1.0], &front, &[2.0, 2.0]).unwrap(),
            0.0
        );
        assert_eq!(
            exclusive_contribution(&[3.0, 0.0], &front, &[2.0, 2.0]).unwrap(),
            0.0
        );
        let none: [[f64; 2]; 0] = [];
        assert_eq!(
            exclusive_contribution(&[1.0, 1.0], &none, &[2.0, 2.0]).unwrap(),
            1.0
        );
        assert!(exclusive_contribution(&[1.0], &front, &[2.0, 2.0]).is_err());
    }

    #[test]
    fn brute_force_agrees_on_hand_examples() {
        let front = vec![vec![0.0, 1.0], vec![0.5, 0.5], vec![1.0, 0.0]];
        assert_eq!(brute_force(&front, &[2.0, 2.0]), 3.25);
        let three = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        assert_eq!(brute_force(&three, &[2.0; 3]), 7.0);
    }

    fn coordinate() -> impl Strategy<Value = f64> {
        // Half-integer grid values force ties and duplicates; the rest are generic.
        prop_oneof![(0u8..=6).prop_map(|v| f64::from(v) * 0.5), 0.0..3.0f64]
    }

    /// Dimension, points and a reference point (some points fall outside it).
    fn instance(max_points: [usize; 4]) -> impl Strategy<Value = (Vec<Vec<f64>>, Vec<f64>)> {
        (2usize..=5).prop_flat_map(move |d| {
            let point = prop::collection::vec(coordinate(), d);
            (
                prop::collection::vec(point, 0..=max_points[d - 2]),
                prop::collection::vec(2.0..3.5f64, d),
            )
        })
    }

    proptest! {
        #[test]
        fn matches_brute_force((points, reference) in instance([12, 10, 8, 6])) {
            let fast = hypervolume(&points, &reference).unwrap();
            let slow = brute_force(&points, &reference);
            prop_assert!(close(fast, slow), "fast {} vs brute force {}", fast, slow);
        }

        #[test]
        fn invariant_under_permutation_and_dominated_points(
            ((points, reference), seed) in (instance([40, 30, 20, 12]), any::<u64>())
        ) {
            let base = hypervolume(&points, &reference).unwrap();
            let mut shuffled = points.clone();
            // A cheap deterministic permutation driven by the seed.
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) >> 33)
                    as usize % (i + 1);
                shuffled.swap(i, j);
            }
            prop_assert!(close(hypervolume(&shuffled, &reference).unwrap(), base));
            let mut worse = points.clone();
            for (k, p) in points.iter().enumerate() {
                worse.push(p.iter().enumerate().map(|(m, v)| v + ((k + m) % 3) as f64 * 0.25)
                    .collect());
            }
            prop_assert!(close(hypervolume(&worse, &reference).unwrap(), base));
        }

        #[test]
        fn lower_dimensions_embed(
            points in prop::collection::vec(prop::collection::vec(coordinate(), 3), 0..150)
        ) {
            // A constant extra objective at 0 with reference 1 leaves the volume unchanged,
            // so 2-D vs 3-D and 3-D vs WFG must agree on large sets.
            let flat2: Vec<Vec<f64>> = points.iter().map(|p| vec![p[0], p[1]]).collect();
            let up3: Vec<Vec<f64>> = flat2.iter().map(|p| vec![p[0], p[1], 0.0]).collect();
            let hv2 = hypervolume(&flat2, &[3.0, 3.0]).unwrap();
            prop_assert!(close(hypervolume(&up3, &[3.0, 3.0, 1.0]).unwrap(), hv2));
            let up4: Vec<Vec<f64>> = points.iter().map(|p| vec![p[0], 0.0, p[1], p[2]]).collect();
            let hv3 = hypervolume(&points, &[3.0; 3]).unwrap();
            prop_assert!(close(hypervolume(&up4, &[3.0, 1.0, 3.0, 3.0]).unwrap(), hv3));
        }

        #[test]
        fn exclusive_contribution_is_the_difference(
            (points, reference) in instance([10, 10, 8, 6])
        ) {
            if let Some((p, rest)) = points.split_last() {
                let with = hypervolume(&points, &reference).unwrap();
                let without = hypervolume(rest, &reference).unwrap();
                let c = exclusive_contribution(p, rest, &reference).unwrap();
                prop_assert!(close(with - without, c), "{} vs {}", with - without, c);
            }
        }
    }
}
