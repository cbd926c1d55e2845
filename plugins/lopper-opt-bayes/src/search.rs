//! Maximising an acquisition function over a discrete space: random candidates and
//! neighbours of the incumbents, then local search from the best of them.
//!
//! The space is finite and mixed (integer, ordinal, categorical, binary), so gradient steps on
//! a continuous relaxation would need rounding and repair after every step; scoring a few
//! thousand points per ask on the model is cheap in comparison and never leaves the space.

use std::collections::HashSet;

use lopper_core::{Domain, Point, SeededRng, Space};
use lopper_gp::Encoding;
use rand::RngExt;

use crate::BoSettings;
use crate::engine::standard_normal;

/// An acquisition function to maximise: values of points given as they are and encoded.
pub(crate) type Acquisition<'a> = dyn FnMut(&[Point], &[Vec<f64>]) -> Vec<f64> + 'a;

/// A random neighbour of `p`: one dimension changed (two different ones with probability
/// 1/4). Integer and ordinal dimensions with more than two values move by a Gaussian step of
/// a tenth of their range half of the time (at least one value), and to a uniformly random
/// other value otherwise; binary and categorical ones change to another value.
pub(crate) fn neighbour(space: &dyn Space, p: &Point, rng: &mut SeededRng) -> Point {
    let dims = space.dims();
    let movable: Vec<usize> = (0..dims.len())
        .filter(|&i| dims[i].domain.cardinality() > 1)
        .collect();
    if movable.is_empty() {
        return p.clone();
    }
    let mut q = p.clone();
    let first = rng.random_range(0..movable.len());
    let mut picks = vec![movable[first]];
    if movable.len() > 1 && rng.random_bool(0.25) {
        // A second, different dimension.
        let other = (first + rng.random_range(1..movable.len())) % movable.len();
        picks.push(movable[other]);
    }
    for i in picks {
        let domain = &dims[i].domain;
        let Some(v) = q.0.get(i).copied() else {
            continue;
        };
        let ordered = matches!(domain, Domain::Integer { .. } | Domain::Ordinal { .. });
        q.0[i] = if ordered && domain.cardinality() > 2 && rng.random_bool(0.5) {
            let step = 0.1 * standard_normal(rng);
            let w = domain.from_unit(domain.to_unit(v) + step);
            if w != v {
                w
            } else {
                let (lo, hi) = domain.bounds();
                let up = if v <= lo {
                    true
                } else if v >= hi {
                    false
                } else {
                    step >= 0.0
                };
                if up { v + 1 } else { v - 1 }
            }
        } else {
            domain.sample_other(v, rng)
        };
    }
    q
}

/// Adds `p` to `out` unless it is taken or already there.
fn push_new(out: &mut Vec<Point>, seen: &mut HashSet<Point>, taken: &HashSet<Point>, p: Point) {
    if !taken.contains(&p) && seen.insert(p.clone()) {
        out.push(p);
    }
}

/// Scores `points` (NaN counts as −∞).
fn score(points: &[Point], encoding: &Encoding, acquisition: &mut Acquisition<'_>) -> Vec<f64> {
    let rows = encoding.encode_all(points);
    acquisition(points, &rows)
        .into_iter()
        .map(|v| if v.is_nan() { f64::NEG_INFINITY } else { v })
        .collect()
}

/// The point of `space`, not in `taken`, with the highest acquisition value found:
/// `settings.candidates` random points and `settings.neighbours` neighbours of each of the
/// first eight `incumbents` are scored, then a local search (best of `settings.neighbours`
/// neighbours per step, at most `settings.local_steps` steps, while it improves) starts from
/// each of the `settings.local_starts` best. Falls back to a random point when every
/// candidate is taken.
pub(crate) fn maximise(
    space: &dyn Space,
    encoding: &Encoding,
    acquisition: &mut Acquisition<'_>,
    incumbents: &[Point],
    taken: &HashSet<Point>,
    settings: &BoSettings,
    rng: &mut SeededRng,
) -> Point {
    let mut seen = HashSet::new();
    let mut candidates = Vec::with_capacity(settings.candidates + 8 * settings.neighbours);
    for _ in 0..settings.candidates {
        let p = space.sample(rng);
        push_new(&mut candidates, &mut seen, taken, p);
    }
    for inc in incumbents.iter().take(8) {
        for _ in 0..settings.neighbours {
            let p = neighbour(space, inc, rng);
            push_new(&mut candidates, &mut seen, taken, p);
        }
    }
    if candidates.is_empty() {
        return space.sample(rng);
    }
    let values = score(&candidates, encoding, acquisition);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut best = (candidates[order[0]].clone(), values[order[0]]);
    for &start in order.iter().take(settings.local_starts) {
        let (mut current, mut value) = (candidates[start].clone(), values[start]);
        for _ in 0..settings.local_steps {
            let mut moves = Vec::with_capacity(settings.neighbours);
            for _ in 0..settings.neighbours {
                let p = neighbour(space, &current, rng);
                push_new(&mut moves, &mut seen, taken, p);
            }
            if moves.is_empty() {
                break;
            }
            let scores = score(&moves, encoding, acquisition);
            let (i, v) =
                scores
                    .iter()
                    .copied()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |acc, (i, v)| {
                            if v > acc.1 { (i, v) } else { acc }
                        },
                    );
            if v <= value {
                break;
            }
            current = moves.swap_remove(i);
            value = v;
        }
        if value > best.1 {
            best = (current, value);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::{Dim, seeded_rng};

    struct Grid(Vec<Dim>);
    impl Space for Grid {
        fn dims(&self) -> &[Dim] {
            &self.0
        }
    }

    #[test]
    fn neighbours_are_valid_and_different() {
        let space = Grid(vec![
            Dim::integer("i", 0, 50),
            Dim::ordinal("o", vec![1.0, 2.0, 4.0]),
            Dim::categorical("c", vec!["a".into(), "b".into()]),
            Dim::binary("b"),
            Dim::integer("fixed", 2, 2),
        ]);
        let mut rng = seeded_rng(0);
        for _ in 0..500 {
            let p = space.sample(&mut rng);
            let q = neighbour(&space, &p, &mut rng);
            space.validate(&q).unwrap();
            assert_ne!(p, q);
        }
    }

    #[test]
    fn finds_the_peak_of_a_smooth_function() {
        let space = Grid(
            (0..6)
                .map(|i| Dim::integer(format!("x{i}"), 0, 100))
                .collect(),
        );
        let enc = Encoding::new(space.dims());
        let target = [0.3, 0.7, 0.1, 0.9, 0.5, 0.2];
        let mut f = |_: &[Point], rows: &[Vec<f64>]| -> Vec<f64> {
            rows.iter()
                .map(|r| {
                    -r.iter()
                        .zip(&target)
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                })
                .collect()
        };
        let settings = BoSettings::default();
        let best = maximise(
            &space,
            &enc,
            &mut f,
            &[],
            &HashSet::new(),
            &settings,
            &mut seeded_rng(2),
        );
        let got = f(&[], &enc.encode_all(std::slice::from_ref(&best)))[0];
        assert!(got > -0.02, "{best:?}: {got}");
        // Taken points are never proposed.
        let tiny = Grid(vec![Dim::binary("a")]);
        let taken: HashSet<Point> = [Point(vec![1])].into_iter().collect();
        let enc = Encoding::new(tiny.dims());
        let p = maximise(
            &tiny,
            &enc,
            &mut f,
            &[],
            &taken,
            &settings,
            &mut seeded_rng(0),
        );
        assert_eq!(p, Point(vec![0]));
    }
}
