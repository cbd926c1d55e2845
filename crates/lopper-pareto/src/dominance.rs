//! Pareto dominance between objective vectors (all objectives minimised).
//!
//! Three relations, from weakest to strongest, for vectors of the same length:
//!
//! - `a` *weakly dominates* `b` ([`weakly_dominates`]): `a[i] <= b[i]` for every `i`;
//!   every vector weakly dominates itself.
//! - `a` *dominates* `b` ([`dominates`], the Pareto dominance used everywhere in this
//!   crate): `a` weakly dominates `b` and `a[i] < b[i]` for at least one `i`. Equal vectors
//!   do not dominate each other, so duplicates share a front.
//! - `a` *strictly dominates* `b` ([`strictly_dominates`]): `a[i] < b[i]` for every `i`.
//!   A point adds hypervolume only if it strictly dominates the reference point.
//!
//! Comparisons follow IEEE semantics: a NaN coordinate makes every relation false, so a
//! vector with a NaN neither dominates nor is dominated. `-0.0` and `0.0` are equal.
//! Vectors of different lengths are compared on their common prefix; callers check lengths.

use std::cmp::Ordering;

/// How two objective vectors relate under Pareto dominance (see [`compare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dominance {
    /// The first vector dominates the second.
    Dominates,
    /// The second vector dominates the first.
    DominatedBy,
    /// The vectors are equal in every coordinate.
    Equal,
    /// Neither dominates the other (including any comparison involving NaN).
    Incomparable,
}

/// Whether `a` dominates `b`: no worse in every objective and better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => better = true,
            Some(Ordering::Equal) => {}
            _ => return false,
        }
    }
    better
}

/// Whether `a` is no worse than `b` in every objective (true for equal vectors).
pub fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

/// Whether `a` is better than `b` in every objective.
pub fn strictly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x < y)
}

/// The dominance relation between `a` and `b`, in one pass.
pub fn compare(a: &[f64], b: &[f64]) -> Dominance {
    let (mut a_better, mut b_better) = (false, false);
    for (x, y) in a.iter().zip(b) {
        match x.partial_cmp(y) {
            Some(Ordering::Less) => a_better = true,
            Some(Ordering::Greater) => b_better = true,
            Some(Ordering::Equal) => {}
            None => return Dominance::Incomparable,
        }
        if a_better && b_better {
            return Dominance::Incomparable;
        }
    }
    match (a_better, b_better) {
        (true, false) => Dominance::Dominates,
        (false, true) => Dominance::DominatedBy,
        _ => Dominance::Equal,
    }
}

/// The indices (ascending) of the points no other point dominates: the first
/// non-dominated front. Duplicates of a non-dominated point are all kept.
///
/// Runs in O(n log n + n·m·d), `m` the size of the front.
pub fn non_dominated<P: AsRef<[f64]>>(points: &[P]) -> Vec<usize> {
    let order = lexicographic_order(points);
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        let p = points[i].as_ref();
        if !front
            .iter()
            .rev()
            .any(|&j| dominates(points[j].as_ref(), p))
        {
            front.push(i);
        }
    }
    front.sort_unstable();
    front
}

/// The point indices in lexicographic order of their coordinates (ties by index).
///
/// Any point that dominates another comes before it, which is what the sweeps in this
/// crate rely on. `-0.0` is ordered as `0.0`; NaN (which dominates nothing) goes last.
pub(crate) fn lexicographic_order<P: AsRef<[f64]>>(points: &[P]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&i, &j| lexicographic_cmp(points[i].as_ref(), points[j].as_ref()));
    order
}

/// Lexicographic comparison with a total order on each coordinate (`-0.0 == 0.0`).
pub(crate) fn lexicographic_cmp(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        // Adding 0.0 turns -0.0 into 0.0, so that the order agrees with `<=`.
        match (x + 0.0).total_cmp(&(y + 0.0)) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// An `f64` ordered by [`f64::total_cmp`], for tree keys. Callers keep NaN and `-0.0` out
/// (see [`lexicographic_cmp`]), so that the order agrees with `<`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TotalF64(pub(crate) f64);

impl PartialEq for TotalF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TotalF64 {}

impl PartialOrd for TotalF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TotalF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_relations() {
        assert!(dominates(&[0.0, 1.0], &[0.0, 2.0]));
        assert!(!dominates(&[0.0, 1.0], &[0.0, 1.0]));
        assert!(!dominates(&[0.0, 3.0], &[1.0, 2.0]));
        assert!(weakly_dominates(&[0.0, 1.0], &[0.0, 1.0]));
        assert!(!strictly_dominates(&[0.0, 1.0], &[0.0, 2.0]));
        assert!(strictly_dominates(&[0.0, 1.0], &[0.5, 2.0]));
        assert!(!dominates(&[-0.0], &[0.0]) && !dominates(&[0.0], &[-0.0]));
    }

    #[test]
    fn compare_agrees_with_dominates() {
        let vs = [
            [0.0, 1.0],
            [0.0, 2.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [f64::NAN, 0.0],
            [2.0, 2.0],
        ];
        for a in &vs {
            for b in &vs {
                let expected = if dominates(a, b) {
                    Dominance::Dominates
                } else if dominates(b, a) {
                    Dominance::DominatedBy
                } else if a == b {
                    Dominance::Equal
                } else {
                    Dominance::Incomparable
                };
                assert_eq!(compare(a, b), expected, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn non_dominated_keeps_duplicates_and_nan() {
        let points = vec![
            vec![1.0, 1.0],
            vec![0.0, 2.0],
            vec![1.0, 1.0],
            vec![2.0, 2.0],
            vec![f64::NAN, 5.0],
        ];
        assert_eq!(non_dominated(&points), vec![0, 1, 2, 4]);
        assert!(non_dominated::<Vec<f64>>(&[]).is_empty());
    }

    #[test]
    fn lexicographic_order_puts_dominators_first() {
        let points = [[0.0, 1.0], [-0.0, 0.5], [0.0, 0.5]];
        // -0.0 == 0.0, so the tie on the first coordinate is broken by the second, then index.
        assert_eq!(lexicographic_order(&points), vec![1, 2, 0]);
    }
}
