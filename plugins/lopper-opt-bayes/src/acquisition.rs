//! Acquisition functions on Gaussian posteriors, all for minimisation: expected improvement,
//! lower confidence bound, and expected hypervolume improvement — exact in two objectives,
//! Monte-Carlo in any number.
//!
//! Exact 2-D EHVI follows the box decomposition of the non-dominated region (Emmerich, Yang,
//! Deutz, Wang and Fonseca, "A Multicriteria Generalization of Bayesian Global Optimization",
//! 2016; Yang, Emmerich, Deutz and Bäck, "Efficient computation of expected hypervolume
//! improvement using box decomposition algorithms", J. Global Optim. 75, 2019; Couckuyt,
//! Deschrijver and Dhaene, "Fast calculation of multiobjective probability of improvement and
//! expected improvement criteria for Pareto optimization", J. Global Optim. 60, 2014): with
//! the front sorted by the first objective, `p₁ … p_k`, and sentinels `p₀ = (−∞, r₂)`,
//! `p_{k+1} = (r₁, ·)`, the region a new point can improve is the union of the cells
//! `[p_i,₁, p_{i+1},₁) × (−∞, p_i,₂)`, and by independence of the two posteriors
//!
//! `EHVI = Σ_{i=0}^{k} (ψ₁(p_{i+1},₁) − ψ₁(p_i,₁)) · ψ₂(p_i,₂)`,  `ψ(u) = E[(u − Y)⁺]`.
//!
//! [`BoxDecomposition`] generalises the cells to any number of objectives; it serves the
//! Monte-Carlo estimate (each sample's improvement is a sum over boxes) and gives the exact
//! expectation wherever the number of boxes is affordable.

use lopper_pareto::{exclusive_contribution, non_dominated, strictly_dominates};

/// The standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (std::f64::consts::TAU).sqrt()
}

/// The standard normal distribution function (through `erfc`, accurate in the tails).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// `ψ(u) = E[(u − Y)⁺]` for `Y ~ N(mean, sd²)`: `(u − μ) Φ(z) + σ φ(z)`, `z = (u − μ)/σ`
/// (`(u − μ)⁺` when `sd` is 0). `ψ(−∞) = 0`.
pub fn expected_shortfall(u: f64, mean: f64, sd: f64) -> f64 {
    if u == f64::NEG_INFINITY {
        return 0.0;
    }
    if sd <= 1e-300 {
        return (u - mean).max(0.0);
    }
    let z = (u - mean) / sd;
    ((u - mean) * normal_cdf(z) + sd * normal_pdf(z)).max(0.0)
}

/// Expected improvement below `best` (Jones, Schonlau and Welch, "Efficient Global
/// Optimization of Expensive Black-Box Functions", J. Global Optim. 13, 1998).
pub fn expected_improvement(best: f64, mean: f64, sd: f64) -> f64 {
    expected_shortfall(best, mean, sd)
}

/// The lower confidence bound `μ − κσ` (Srinivas et al., "Gaussian Process Optimization in
/// the Bandit Setting", ICML 2010), to be minimised.
pub fn lower_confidence_bound(mean: f64, sd: f64, kappa: f64) -> f64 {
    mean - kappa * sd
}

/// The members of `points` that count for hypervolume improvement: non-dominated, strictly
/// better than `reference` in every objective, duplicates removed, sorted lexicographically
/// (for two objectives: by the first objective, the second then descending).
pub fn improvement_front(points: &[Vec<f64>], reference: &[f64]) -> Vec<Vec<f64>> {
    let inside: Vec<&Vec<f64>> = points
        .iter()
        .filter(|p| strictly_dominates(p, reference))
        .collect();
    let mut front: Vec<Vec<f64>> = non_dominated(&inside)
        .into_iter()
        .map(|i| inside[i].clone())
        .collect();
    front.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    front.dedup();
    front
}

/// Exact expected hypervolume improvement in two objectives of a point whose objectives are
/// independent normals `N(mean[j], sd[j]²)`, over `front` as returned by
/// [`improvement_front`] for `reference`.
pub fn ehvi_2d(front: &[Vec<f64>], reference: &[f64], mean: &[f64], sd: &[f64]) -> f64 {
    let psi1 = |u: f64| expected_shortfall(u, mean[0], sd[0]);
    let psi2 = |u: f64| expected_shortfall(u, mean[1], sd[1]);
    let k = front.len();
    let mut total = 0.0;
    for i in 0..=k {
        let lower = if i == 0 { 0.0 } else { psi1(front[i - 1][0]) };
        let upper = if i == k {
            psi1(reference[0])
        } else {
            psi1(front[i][0])
        };
        let height = if i == 0 {
            reference[1]
        } else {
            front[i - 1][1]
        };
        total += (upper - lower).max(0.0) * psi2(height);
    }
    total
}

/// The region a new point can add hypervolume in — points below `reference` that no member
/// of the front weakly dominates — as disjoint boxes (Yang et al. 2019): the grid of the
/// front's coordinates splits the first `m − 1` objectives into columns, and in each column
/// the non-dominated cells form one box, unbounded below in the last objective.
///
/// With boxes `[l, u)`, the hypervolume improvement of `z` is `Σ Π_j (u_j − max(z_j, l_j))⁺`
/// and, for independent normal objectives, its expectation is `Σ Π_j (ψ_j(u_j) − ψ_j(l_j))`.
/// There are `Π_{j<m} (k_j + 1)` boxes for `k_j` distinct front values in objective `j`:
/// `k + 1` in two objectives, about `k²` in three.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxDecomposition {
    /// Per objective, the grid: `−∞`, the distinct front values below the reference, the
    /// reference; all objectives' grids one after the other.
    grid: Vec<f64>,
    /// Where each objective's grid starts in `grid`.
    offsets: Vec<usize>,
    /// Per box, `m` pairs of indices into `grid`: its lower and upper side in each objective.
    boxes: Vec<(u32, u32)>,
    objectives: usize,
}

impl BoxDecomposition {
    /// The decomposition for `front` (as returned by [`improvement_front`]) and `reference`.
    /// Neighbouring columns with the same height are merged along the first objective.
    pub fn new(front: &[Vec<f64>], reference: &[f64]) -> Self {
        let m = reference.len();
        let grids: Vec<Vec<f64>> = (0..m)
            .map(|j| {
                let mut g: Vec<f64> = front
                    .iter()
                    .map(|p| p[j])
                    .filter(|v| *v < reference[j])
                    .collect();
                g.sort_by(f64::total_cmp);
                g.dedup();
                let mut out = vec![f64::NEG_INFINITY];
                out.extend(g);
                out.push(reference[j]);
                out
            })
            .collect();
        let mut offsets = Vec::with_capacity(m);
        let mut grid = Vec::new();
        for g in &grids {
            offsets.push(grid.len());
            grid.extend(g);
        }
        let mut out = Self {
            grid,
            offsets,
            boxes: Vec::new(),
            objectives: m,
        };
        if m == 0 {
            return out;
        }
        let last = m - 1;
        // Odometer over the columns, the first objective fastest: cell i_j spans
        // grids[j][i_j] .. grids[j][i_j + 1] for j < m − 1.
        let mut idx = vec![0usize; last];
        let mut previous: Option<(Vec<usize>, usize)> = None;
        loop {
            let corner: Vec<f64> = (0..last).map(|j| grids[j][idx[j]]).collect();
            // The lowest last objective among front points that dominate the column.
            let top = front
                .iter()
                .filter(|p| p[..last].iter().zip(&corner).all(|(a, c)| a <= c))
                .map(|p| p[last])
                .fold(reference[last], f64::min);
            let hi = grids[last].partition_point(|g| *g < top);
            let extends = previous.as_ref().is_some_and(|(prev, prev_hi)| {
                *prev_hi == hi && prev[1..] == idx[1..] && prev[0] + 1 == idx[0]
            });
            if extends {
                let n = out.boxes.len();
                out.boxes[n - m].1 = (out.offsets[0] + idx[0] + 1) as u32;
            } else if hi > 0 {
                for (j, &i) in idx.iter().enumerate() {
                    let o = out.offsets[j];
                    out.boxes.push(((o + i) as u32, (o + i + 1) as u32));
                }
                let o = out.offsets[last];
                out.boxes.push((o as u32, (o + hi) as u32));
            }
            previous = (hi > 0).then(|| (idx.clone(), hi));
            let mut j = 0;
            loop {
                if j == last {
                    return out;
                }
                idx[j] += 1;
                if idx[j] + 1 < grids[j].len() {
                    break;
                }
                idx[j] = 0;
                previous = None;
                j += 1;
            }
        }
    }

    /// Number of boxes.
    pub fn len(&self) -> usize {
        self.boxes.len() / self.objectives.max(1)
    }

    /// Whether there is no box (an empty region).
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// `Σ_boxes Π_j (f_j(u_j) − f_j(l_j))` for a function tabulated on the grid, `f(−∞) = 0`.
    fn sum_over_boxes(&self, table: &[f64]) -> f64 {
        self.boxes
            .chunks_exact(self.objectives.max(1))
            .map(|b| {
                b.iter()
                    .map(|&(lo, hi)| (table[hi as usize] - table[lo as usize]).max(0.0))
                    .product::<f64>()
            })
            .sum()
    }

    /// Fills `table` with `f(j, grid value)` for every objective `j`.
    fn tabulate(&self, table: &mut Vec<f64>, f: impl Fn(usize, f64) -> f64) {
        table.clear();
        for (j, &start) in self.offsets.iter().enumerate() {
            let end = self.offsets.get(j + 1).copied().unwrap_or(self.grid.len());
            table.extend(self.grid[start..end].iter().map(|&u| f(j, u)));
        }
    }

    /// The hypervolume improvement of the objective vector `z`.
    pub fn improvement(&self, z: &[f64]) -> f64 {
        let mut table = Vec::with_capacity(self.grid.len());
        self.improvement_with(z, &mut table)
    }

    fn improvement_with(&self, z: &[f64], table: &mut Vec<f64>) -> f64 {
        self.tabulate(table, |j, u| (u - z[j]).max(0.0));
        self.sum_over_boxes(table)
    }

    /// The exact expected hypervolume improvement of independent normal objectives.
    pub fn ehvi(&self, mean: &[f64], sd: &[f64]) -> f64 {
        let mut table = Vec::with_capacity(self.grid.len());
        self.tabulate(&mut table, |j, u| expected_shortfall(u, mean[j], sd[j]));
        self.sum_over_boxes(&table)
    }
}

/// The hypervolume improvement of `z` over `front` with respect to `reference`, computed
/// directly (`lopper-pareto`'s exclusive contribution).
pub fn hypervolume_improvement(z: &[f64], front: &[Vec<f64>], reference: &[f64]) -> f64 {
    exclusive_contribution(z, front, reference).unwrap_or(0.0)
}

/// Monte-Carlo expected hypervolume improvement, any number of objectives: the mean
/// hypervolume improvement of `mean + sd ⊙ ε` over the standard-normal draws `draws`, each
/// computed on the box decomposition `boxes` of `front` (draws that a front member weakly
/// dominates add nothing and are skipped). Using the same draws for every candidate (common
/// random numbers) makes the estimate a deterministic function of the posterior.
pub fn ehvi_monte_carlo(
    boxes: &BoxDecomposition,
    front: &[Vec<f64>],
    mean: &[f64],
    sd: &[f64],
    draws: &[Vec<f64>],
) -> f64 {
    if draws.is_empty() {
        return 0.0;
    }
    let mut z = vec![0.0; mean.len()];
    let mut total = 0.0;
    for eps in draws {
        for (j, zj) in z.iter_mut().enumerate() {
            *zj = mean[j] + sd[j] * eps[j];
        }
        if front.iter().any(|p| p.iter().zip(&z).all(|(a, b)| a <= b)) {
            continue;
        }
        total += boxes.improvement(&z);
    }
    total / draws.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::seeded_rng;
    use rand::RngExt;

    fn normal(rng: &mut lopper_core::SeededRng) -> f64 {
        let u: f64 = 1.0 - rng.random::<f64>();
        let v: f64 = rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    #[test]
    fn shortfall_and_ei() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((normal_cdf(1.959963984540054) - 0.975).abs() < 1e-12);
        assert!(normal_cdf(-40.0) >= 0.0);
        // E[(0 − Y)⁺] for a standard normal is φ(0).
        assert!((expected_shortfall(0.0, 0.0, 1.0) - normal_pdf(0.0)).abs() < 1e-15);
        assert_eq!(expected_shortfall(1.0, 3.0, 0.0), 0.0);
        assert_eq!(expected_shortfall(3.0, 1.0, 0.0), 2.0);
        assert_eq!(expected_shortfall(f64::NEG_INFINITY, 1.0, 1.0), 0.0);
        assert!(expected_improvement(0.0, -5.0, 1.0) > 4.99);
        assert_eq!(lower_confidence_bound(1.0, 2.0, 0.5), 0.0);
    }

    #[test]
    fn front_preparation() {
        let pts = vec![
            vec![0.5, 0.5],
            vec![0.2, 0.9],
            vec![0.6, 0.6],
            vec![0.2, 0.9],
            vec![1.5, 0.0],
            vec![0.9, 0.1],
        ];
        let f = improvement_front(&pts, &[1.0, 1.0]);
        assert_eq!(f, vec![vec![0.2, 0.9], vec![0.5, 0.5], vec![0.9, 0.1]]);
    }

    /// A certain point (zero variance) improves by exactly its hypervolume improvement.
    #[test]
    fn ehvi_2d_of_a_certain_point() {
        let front = improvement_front(&[vec![0.2, 0.8], vec![0.6, 0.3]], &[1.0, 1.0]);
        let r = [1.0, 1.0];
        for z in [[0.1, 0.5], [0.4, 0.4], [0.7, 0.9], [0.0, 0.0], [1.2, 0.1]] {
            let exact = ehvi_2d(&front, &r, &z, &[0.0, 0.0]);
            let hvi = hypervolume_improvement(&z, &front, &r);
            assert!((exact - hvi).abs() < 1e-12, "{z:?}: {exact} vs {hvi}");
        }
        // With an empty front the improvement is the product of two shortfalls.
        let e = ehvi_2d(&[], &r, &[0.5, 0.5], &[0.2, 0.3]);
        let want = expected_shortfall(1.0, 0.5, 0.2) * expected_shortfall(1.0, 0.5, 0.3);
        assert!((e - want).abs() < 1e-15);
    }

    /// The exact 2-D formula against a Monte-Carlo estimate with many samples.
    #[test]
    fn ehvi_2d_matches_monte_carlo() {
        let mut rng = seeded_rng(17);
        let r = [1.1, 1.1];
        let raw: Vec<Vec<f64>> = (0..8)
            .map(|_| {
                let a: f64 = rng.random();
                vec![a, 1.0 - a.sqrt() + 0.1 * rng.random::<f64>()]
            })
            .collect();
        let front = improvement_front(&raw, &r);
        let draws: Vec<Vec<f64>> = (0..200_000)
            .map(|_| vec![normal(&mut rng), normal(&mut rng)])
            .collect();
        for (mean, sd) in [
            ([0.3, 0.5], [0.1, 0.2]),
            ([0.5, 0.5], [0.3, 0.3]),
            ([0.9, 0.05], [0.05, 0.4]),
            ([1.3, 1.3], [0.5, 0.5]),
        ] {
            let exact = ehvi_2d(&front, &r, &mean, &sd);
            let boxes = BoxDecomposition::new(&front, &r);
            let mc = ehvi_monte_carlo(&boxes, &front, &mean, &sd, &draws);
            assert!((boxes.ehvi(&mean, &sd) - exact).abs() < 1e-12);
            // A few standard errors of the estimate.
            let hvis: Vec<f64> = draws
                .iter()
                .map(|e| {
                    let z = [mean[0] + sd[0] * e[0], mean[1] + sd[1] * e[1]];
                    hypervolume_improvement(&z, &front, &r)
                })
                .collect();
            let var = hvis.iter().map(|h| (h - mc).powi(2)).sum::<f64>() / hvis.len() as f64;
            let se = (var / hvis.len() as f64).sqrt();
            assert!(exact > 0.0);
            assert!(
                (exact - mc).abs() < 4.0 * se + 1e-9,
                "{mean:?} {sd:?}: exact {exact}, MC {mc} ± {se}"
            );
        }
    }

    /// In three objectives with an empty front the expectation factorises.
    #[test]
    fn monte_carlo_in_three_objectives() {
        let mut rng = seeded_rng(3);
        let draws: Vec<Vec<f64>> = (0..100_000)
            .map(|_| (0..3).map(|_| normal(&mut rng)).collect())
            .collect();
        let (r, mean, sd) = ([1.0; 3], [0.6, 0.7, 0.8], [0.2, 0.1, 0.3]);
        let want: f64 = (0..3)
            .map(|j| expected_shortfall(r[j], mean[j], sd[j]))
            .product();
        let mc = ehvi_monte_carlo(&BoxDecomposition::new(&[], &r), &[], &mean, &sd, &draws);
        assert!((mc - want).abs() < 0.03 * want, "{mc} vs {want}");
        // A front point that dominates the whole posterior leaves nothing to gain.
        let front = improvement_front(&[vec![0.0, 0.0, 0.0]], &r);
        let boxes = BoxDecomposition::new(&front, &r);
        assert_eq!(
            ehvi_monte_carlo(&boxes, &front, &mean, &sd, &draws[..100]),
            0.0
        );
    }

    /// Box decompositions measure improvements like the direct computation, in 2 to 4
    /// objectives, and the 3-D Monte-Carlo estimate converges to the boxes' exact value.
    #[test]
    fn boxes_match_direct_improvement_and_monte_carlo_converges() {
        let mut rng = seeded_rng(8);
        for m in 2..=4 {
            let r = vec![1.0; m];
            let raw: Vec<Vec<f64>> = (0..12)
                .map(|_| {
                    let v: Vec<f64> = (0..m).map(|_| normal(&mut rng).abs() + 0.05).collect();
                    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                    v.iter().map(|x| x / norm).collect()
                })
                .collect();
            let front = improvement_front(&raw, &r);
            let boxes = BoxDecomposition::new(&front, &r);
            for _ in 0..200 {
                let z: Vec<f64> = (0..m).map(|_| 1.2 * rng.random::<f64>() - 0.1).collect();
                let direct = hypervolume_improvement(&z, &front, &r);
                let b = boxes.improvement(&z);
                assert!((direct - b).abs() < 1e-12, "m={m} {z:?}: {direct} vs {b}");
            }
        }
        let r = [1.0; 3];
        let front = improvement_front(
            &[
                vec![0.2, 0.5, 0.7],
                vec![0.6, 0.3, 0.4],
                vec![0.5, 0.6, 0.1],
            ],
            &r,
        );
        let boxes = BoxDecomposition::new(&front, &r);
        let draws: Vec<Vec<f64>> = (0..100_000)
            .map(|_| (0..3).map(|_| normal(&mut rng)).collect())
            .collect();
        let (mean, sd) = ([0.4, 0.4, 0.4], [0.2, 0.15, 0.3]);
        let exact = boxes.ehvi(&mean, &sd);
        let mc = ehvi_monte_carlo(&boxes, &front, &mean, &sd, &draws);
        assert!(
            exact > 0.0 && (mc - exact).abs() < 0.02 * exact,
            "{mc} vs {exact}"
        );
    }
}
