//! Non-dominated sorting and crowding distance (Deb et al. 2002, NSGA-II).
//!
//! [`non_dominated_sort`] returns exactly the fronts of Deb's fast non-dominated sort —
//! front 0 holds the points no point dominates, front `k` the points dominated only by
//! points of fronts `< k` — but computes them with the efficient non-dominated sort with
//! binary search (ENS-BS, Zhang et al. 2015): points are visited in lexicographic order
//! (so every dominator of a point is visited before it), and each goes to the first front
//! none of whose members dominates it, found by binary search over the fronts. This needs
//! O(n) memory instead of Deb's O(n²) domination lists, and at most O(n²·d) comparisons
//! (far fewer in practice). Probing a front costs one comparison in two objectives and a
//! tree query in three (O(n log² n) overall); beyond, a scan of the front.

use std::collections::BTreeMap;

use crate::dominance::{TotalF64, dominates, lexicographic_order};

/// The non-dominated fronts of a point set (see [`non_dominated_sort`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fronts {
    /// `fronts[k]` lists the indices of the points of rank `k`, ascending.
    pub fronts: Vec<Vec<usize>>,
    /// `rank[i]` is the index of the front of point `i` (0 = non-dominated).
    pub rank: Vec<usize>,
}

/// Sorts `points` into non-dominated fronts under Pareto dominance (minimisation).
///
/// Equal points do not dominate each other and share a front. A point with a NaN
/// coordinate is incomparable to every point and lands in front 0.
pub fn non_dominated_sort<P: AsRef<[f64]>>(points: &[P]) -> Fronts {
    let mut rank = vec![0; points.len()];
    // Fronts in visiting (lexicographic) order: each front's last member is its
    // lexicographically greatest. In three objectives each front also keeps a staircase.
    let mut fronts: Vec<Vec<usize>> = Vec::new();
    let mut stairs: Vec<Staircase> = Vec::new();
    let mut nan_points = Vec::new();
    for i in lexicographic_order(points) {
        let p = points[i].as_ref();
        if p.iter().any(|v| v.is_nan()) {
            nan_points.push(i);
            continue;
        }
        let dominated_by = |k: usize| match p.len() {
            // In two objectives the members are sorted by the first objective ascending
            // and the second descending; the last one has the smallest second objective
            // and a first objective no greater than p's, so it alone decides.
            2 => fronts[k]
                .last()
                .is_some_and(|&j| dominates(points[j].as_ref(), p)),
            3 => stairs[k].dominates(p),
            // Recent members are lexicographically closest to p, hence likelier dominators.
            _ => fronts[k]
                .iter()
                .rev()
                .any(|&j| dominates(points[j].as_ref(), p)),
        };
        // The fronts containing a dominator of `p` are a prefix of `fronts`: a dominator
        // in front k is itself dominated by a member of front k - 1, which dominates `p`.
        let (mut lo, mut hi) = (0, fronts.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if dominated_by(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == fronts.len() {
            fronts.push(Vec::new());
            stairs.push(Staircase::default());
        }
        fronts[lo].push(i);
        if p.len() == 3 {
            stairs[lo].insert(p);
        }
        rank[i] = lo;
    }
    if !nan_points.is_empty() {
        if fronts.is_empty() {
            fronts.push(Vec::new());
        }
        fronts[0].extend(nan_points);
    }
    for front in &mut fronts {
        front.sort_unstable();
    }
    Fronts { fronts, rank }
}

/// The minimal projections `(y, z)` of a three-objective front's members onto the last
/// two objectives, keyed by `y` (so `z` descends), each with the member's `x`. Members are
/// inserted in lexicographic order, so a member's `x` never exceeds a later point's, and
/// "some member dominates `p`" becomes a predecessor query: O(log n) instead of a scan.
#[derive(Debug, Default)]
struct Staircase(BTreeMap<TotalF64, (f64, f64)>);

impl Staircase {
    /// Whether a member dominates `p` (visited after every member).
    fn dominates(&self, p: &[f64]) -> bool {
        let (x, y, z) = (p[0] + 0.0, p[1] + 0.0, p[2] + 0.0);
        // The member with the largest y <= p's has the smallest z among those.
        self.0
            .range(..=TotalF64(y))
            .next_back()
            .is_some_and(|(&TotalF64(my), &(mz, mx))| {
                // Equal projections are only dominating if the member is better in x.
                mz <= z && (my < y || mz < z || mx < x)
            })
    }

    /// Adds a member no member dominates.
    fn insert(&mut self, p: &[f64]) {
        let (x, y, z) = (p[0] + 0.0, p[1] + 0.0, p[2] + 0.0);
        if self.0.get(&TotalF64(y)).is_some_and(|&(mz, _)| mz == z) {
            return; // a duplicate: the projection is there already
        }
        let covered: Vec<TotalF64> = self
            .0
            .range(TotalF64(y)..)
            .take_while(|(_, (mz, _))| *mz >= z)
            .map(|(&key, _)| key)
            .collect();
        for key in covered {
            self.0.remove(&key);
        }
        self.0.insert(TotalF64(y), (z, x));
    }
}

/// The crowding distance of each member of `front` (indices into `points`), in the order
/// of `front`.
///
/// For each objective the members are sorted by value (ties by their position in
/// `front`); the first and last get an infinite distance, and each other member adds the
/// gap between its neighbours divided by the objective's range over the front. Objectives
/// whose range is zero or not finite add nothing to interior members. Fronts of one or
/// two points are all infinite.
pub fn crowding_distance<P: AsRef<[f64]>>(points: &[P], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let dim = points[front[0]].as_ref().len();
    let mut distance = vec![0.0; n];
    let mut order: Vec<usize> = (0..n).collect();
    for m in 0..dim {
        let value = |k: usize| points[front[k]].as_ref()[m];
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
        let (first, last) = (order[0], order[n - 1]);
        distance[first] = f64::INFINITY;
        distance[last] = f64::INFINITY;
        let span = value(last) - value(first);
        if !(span.is_finite() && span > 0.0) {
            continue;
        }
        for w in order.windows(3) {
            distance[w[1]] += (value(w[2]) - value(w[0])) / span;
        }
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: rank 0 for points nobody dominates, then peel.
    fn brute_force_ranks(points: &[Vec<f64>]) -> Vec<usize> {
        let n = points.len();
        let mut rank = vec![usize::MAX; n];
        let mut level = 0;
        while rank.contains(&usize::MAX) {
            let current: Vec<usize> = (0..n)
                .filter(|&i| rank[i] == usize::MAX)
                .filter(|&i| {
                    !(0..n).any(|j| rank[j] == usize::MAX && dominates(&points[j], &points[i]))
                })
                .collect();
            for i in current {
                rank[i] = level;
            }
            level += 1;
        }
        rank
    }

    #[test]
    fn small_example() {
        let points = vec![
            vec![1.0, 1.0],
            vec![0.0, 3.0],
            vec![2.0, 2.0],
            vec![1.0, 1.0],
            vec![3.0, 3.0],
            vec![3.0, 0.0],
        ];
        let sorted = non_dominated_sort(&points);
        assert_eq!(sorted.fronts, vec![vec![0, 1, 3, 5], vec![2], vec![4]]);
        assert_eq!(sorted.rank, vec![0, 0, 1, 0, 2, 0]);
        assert_eq!(non_dominated_sort::<Vec<f64>>(&[]), Fronts::default());
    }

    #[test]
    fn nan_points_join_the_first_front() {
        let points = vec![
            vec![f64::NAN, 0.0, 0.0],
            vec![0.0, 0.0, 0.0],
            vec![1.0, 1.0, 1.0],
        ];
        let sorted = non_dominated_sort(&points);
        assert_eq!(sorted.fronts, vec![vec![0, 1], vec![2]]);
        let only_nan = non_dominated_sort(&[[-f64::NAN, 1.0]]);
        assert_eq!(only_nan.fronts, vec![vec![0]]);
    }

    #[test]
    fn crowding_distance_of_a_line() {
        let points = vec![
            vec![0.0, 4.0],
            vec![1.0, 3.0],
            vec![3.0, 1.0],
            vec![4.0, 0.0],
        ];
        let d = crowding_distance(&points, &[3, 1, 0, 2]);
        assert!(d[0].is_infinite() && d[2].is_infinite());
        // Point 1: gaps (3 - 0) / 4 in both objectives; point 2: (4 - 1) / 4 likewise.
        assert!((d[1] - 1.5).abs() < 1e-12 && (d[3] - 1.5).abs() < 1e-12);
        assert_eq!(crowding_distance(&points, &[0, 1]), vec![f64::INFINITY; 2]);
        // A constant objective adds nothing.
        let flat = vec![vec![0.0, 1.0], vec![1.0, 1.0], vec![2.0, 1.0]];
        assert_eq!(crowding_distance(&flat, &[0, 1, 2])[1], 1.0);
    }

    #[test]
    fn signed_zeros_are_equal() {
        let points = vec![
            vec![0.0, -0.0, 1.0],
            vec![-0.0, 0.0, 1.0],
            vec![0.0, 0.0, 2.0],
            vec![-0.0, -0.0, 0.5],
            vec![0.0, 0.5, -0.0],
        ];
        assert_eq!(non_dominated_sort(&points).rank, brute_force_ranks(&points));
        assert_eq!(non_dominated_sort(&points).rank, vec![1, 1, 2, 0, 0]);
    }

    fn points_strategy() -> impl Strategy<Value = Vec<Vec<f64>>> {
        // Small integers force ties and duplicates; the rest are generic.
        let coordinate = prop_oneof![3 => (0u8..5).prop_map(f64::from), 1 => 0.0..5.0f64];
        (1usize..=4).prop_flat_map(move |d| {
            prop::collection::vec(prop::collection::vec(coordinate.clone(), d), 0..60)
        })
    }

    proptest! {
        #[test]
        fn matches_the_brute_force_definition(points in points_strategy()) {
            let sorted = non_dominated_sort(&points);
            prop_assert_eq!(&sorted.rank, &brute_force_ranks(&points));
            for (k, front) in sorted.fronts.iter().enumerate() {
                prop_assert!(!front.is_empty());
                prop_assert!(front.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(front.iter().all(|&i| sorted.rank[i] == k));
            }
            let total: usize = sorted.fronts.iter().map(Vec::len).sum();
            prop_assert_eq!(total, points.len());
        }
    }
}
