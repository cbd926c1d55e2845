//! Four or more objectives: the WFG algorithm (While, Bradstreet and Barone 2012).
//!
//! The hypervolume is the sum of the exclusive contributions of the points taken in order
//! of descending last objective, each against the points after it. Those later points are
//! no worse in the last objective, so once *limited* by the current point `p` (each
//! replaced by the componentwise maximum with `p`) they all sit at `p`'s last objective;
//! the contribution is therefore `(r_d - p_d)` times a `(d - 1)`-objective exclusive
//! contribution, `inclusive(p) - HV(non-dominated(limited set))`, which recurses down to
//! the 3-D sweep. Limiting makes the sets small quickly, which is what makes WFG fast.

use super::{hv2::hv2, hv3::hv3};
use crate::dominance::{lexicographic_cmp, weakly_dominates};

/// The hypervolume of `points` (flat, `dim` coordinates each, all strictly dominating
/// `reference`, finite, no NaN, no `-0.0`), for any `dim >= 2`.
pub(crate) fn hv(points: &[f64], reference: &[f64]) -> f64 {
    let dim = reference.len();
    match dim {
        2 => hv2(points, [reference[0], reference[1]]),
        3 => hv3(points, [reference[0], reference[1], reference[2]]),
        _ => {
            let front = non_dominated_unique(points, dim);
            wfg(&front, reference)
        }
    }
}

/// WFG proper, for `dim >= 4` and a mutually non-dominated set without duplicates (which
/// is not needed for correctness, only for speed).
fn wfg(points: &[f64], reference: &[f64]) -> f64 {
    let dim = reference.len();
    let last = dim - 1;
    let mut sorted: Vec<&[f64]> = points.chunks_exact(dim).collect();
    sorted.sort_unstable_by(|a, b| b[last].total_cmp(&a[last]));
    let lower = &reference[..last];
    let mut volume = 0.0;
    let mut limited: Vec<f64> = Vec::new();
    for (k, p) in sorted.iter().enumerate() {
        let (head, p_last) = (&p[..last], p[last]);
        limited.clear();
        let mut covered = false;
        for q in &sorted[k + 1..] {
            let q = &q[..last];
            if weakly_dominates(q, head) {
                covered = true; // p adds nothing beyond q
                break;
            }
            limited.extend(head.iter().zip(q).map(|(a, b)| a.max(*b)));
        }
        if covered {
            continue;
        }
        let inclusive: f64 = head.iter().zip(lower).map(|(a, r)| r - a).product();
        let exclusive = if limited.is_empty() {
            inclusive
        } else {
            inclusive - hv(&limited, lower)
        };
        volume += (reference[last] - p_last) * exclusive;
    }
    volume
}

/// The points (flat, `dim` coordinates each) no other point weakly dominates, keeping one
/// copy of duplicates; flat again.
pub(crate) fn non_dominated_unique(points: &[f64], dim: usize) -> Vec<f64> {
    let mut sorted: Vec<&[f64]> = points.chunks_exact(dim).collect();
    sorted.sort_unstable_by(|a, b| lexicographic_cmp(a, b));
    // In lexicographic order a point can only be weakly dominated by an earlier one.
    let mut kept: Vec<&[f64]> = Vec::new();
    for p in sorted {
        if !kept.iter().rev().any(|q| weakly_dominates(q, p)) {
            kept.push(p);
        }
    }
    kept.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_objective_hand_example() {
        // Two points of [0, 2]^4: (0,0,1,1) has box 2*2*1*1 = 4, (1,1,0,0) likewise; the
        // intersection [1,2]^4 has volume 1.
        let points = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        assert_eq!(hv(&points, &[2.0; 4]), 7.0);
        // The unit vectors against (2,2,2,2): a point of [0,2]^4 is covered unless all its
        // coordinates are below 1, so the union is 16 - 1.
        let corners = [
            1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0,
        ];
        assert_eq!(hv(&corners, &[2.0; 4]), 15.0);
    }

    #[test]
    fn non_dominated_unique_drops_duplicates_and_dominated() {
        let points = [1.0, 1.0, 0.0, 2.0, 1.0, 1.0, 2.0, 2.0];
        assert_eq!(non_dominated_unique(&points, 2), vec![0.0, 2.0, 1.0, 1.0]);
    }
}
