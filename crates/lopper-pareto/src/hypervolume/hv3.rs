//! Three objectives: the dimension sweep of Beume et al. (2009) / Fonseca et al. (2006).
//!
//! Points are visited by ascending third objective. Between two consecutive levels the
//! dominated region's cross-section is the 2-D area dominated by the points seen so far;
//! that 2-D front is kept in a balanced tree keyed by the first objective (so the second
//! descends along it) and its area is updated by each insertion in O(log n) amortised.
//! O(n log n) overall.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::dominance::TotalF64 as Key;

/// The volume dominated by `points` (flat, three coordinates each, all strictly
/// dominating `reference`, finite, no NaN, no `-0.0`) and bounded by `reference`.
pub(crate) fn hv3(points: &[f64], reference: [f64; 3]) -> f64 {
    let mut sorted: Vec<[f64; 3]> = points.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    sorted.sort_unstable_by(|a, b| a[2].total_cmp(&b[2]));
    let [rx, ry, rz] = reference;
    // The 2-D front: first objective -> second objective, mutually non-dominated.
    let mut front: BTreeMap<Key, f64> = BTreeMap::new();
    let mut area = 0.0;
    let mut volume = 0.0;
    let mut z_prev = match sorted.first() {
        Some(p) => p[2],
        None => return 0.0,
    };
    let mut removed: Vec<Key> = Vec::new();
    for [x, y, z] in sorted {
        volume += area * (z - z_prev);
        z_prev = z;
        // The closest member at or left of x bounds the old staircase above p's corner.
        let upper = match front.range(..=Key(x)).next_back() {
            Some((_, &left_y)) if left_y <= y => continue, // p is weakly dominated in 2-D
            Some((_, &left_y)) => left_y,
            None => ry,
        };
        // Members right of (or at) x with y' >= y are dominated by p: drop them, adding
        // the strips between them that p newly covers.
        let mut gained = 0.0;
        let mut strip_x = x;
        let mut strip_top = upper;
        let mut right_edge = rx;
        removed.clear();
        for (&key, &qy) in front.range((Bound::Included(Key(x)), Bound::Unbounded)) {
            if qy < y {
                right_edge = key.0;
                break;
            }
            gained += (key.0 - strip_x) * (strip_top - y);
            strip_x = key.0;
            strip_top = qy;
            removed.push(key);
        }
        gained += (right_edge - strip_x) * (strip_top - y);
        for key in &removed {
            front.remove(key);
        }
        front.insert(Key(x), y);
        area += gained;
    }
    volume + area * (rz - z_prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_cubes() {
        assert_eq!(hv3(&[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]), 6.0);
        let points = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        // Union of [1,2]x[0,2]x[0,2], [0,2]x[1,2]x[0,2], [0,2]x[0,2]x[1,2]:
        // the 2x2x2 cube minus the unit cube [0,1]^3.
        assert_eq!(hv3(&points, [2.0, 2.0, 2.0]), 7.0);
        assert_eq!(hv3(&[], [1.0, 1.0, 1.0]), 0.0);
    }

    #[test]
    fn insertion_replaces_dominated_members() {
        // (1, 1) then (0.5, 0.5) at a higher level dominates it in 2-D.
        let points = [1.0, 1.0, 0.0, 0.5, 0.5, 1.0, 1.5, 0.0, 1.0];
        // Level [0, 1): area 1 x 1 = 1; level [1, 2): area of {(1,1),(0.5,0.5),(1.5,0)}
        // within [.., 2]^2 = 1.5 * 1.5 + 0.5 * 0.5 = 2.5.
        assert_eq!(hv3(&points, [2.0, 2.0, 2.0]), 3.5);
    }
}
