//! The Matérn-5/2 ARD kernel, the kernel matrix with its jittered Cholesky factor, and the
//! log marginal likelihood with its gradient (Rasmussen and Williams, *Gaussian Processes for
//! Machine Learning*, 2006, eqs. 2.30 and 5.9).

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use crate::{GpError, Hyper, Result, TrainingData};

/// √5.
const SQRT5: f64 = 2.236_067_977_499_79;

/// The jitters (relative to the diagonal's scale) tried in turn when a Cholesky factorisation
/// fails.
pub(crate) const JITTERS: [f64; 5] = [0.0, 1e-8, 1e-6, 1e-4, 1e-2];

/// The Matérn-5/2 kernel `σ²(1 + √5 r + 5r²/3) e^{−√5 r}` at squared scaled distance `r2`,
/// and the factor `c = σ² (5/3)(1 + √5 r) e^{−√5 r}` with which
/// `∂k/∂log ℓ_g = c · Δ_g² / ℓ_g²`.
#[inline]
pub(crate) fn matern52(r2: f64, s2: f64) -> (f64, f64) {
    let r = r2.sqrt();
    let e = (-SQRT5 * r).exp();
    (
        s2 * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e,
        s2 * 5.0 / 3.0 * (1.0 + SQRT5 * r) * e,
    )
}

/// The squared differences of every pair `i < j` of training points, summed per length-scale
/// group: computed once per fit, reused by every likelihood evaluation. Pairs are ordered
/// column by column (`j` outer, `i < j` inner).
pub(crate) struct Pairs {
    pub(crate) n: usize,
    pub(crate) groups: usize,
    sq: Vec<f64>,
}

impl Pairs {
    pub(crate) fn new(data: &TrainingData) -> Self {
        let (n, groups) = (data.len(), data.num_groups);
        let mut sq = vec![0.0; n * n.saturating_sub(1) / 2 * groups];
        let mut p = 0;
        for j in 0..n {
            for i in 0..j {
                let row = &mut sq[p * groups..(p + 1) * groups];
                for ((a, b), &g) in data.x[i].iter().zip(&data.x[j]).zip(&data.column_groups) {
                    row[g] += (a - b) * (a - b);
                }
                p += 1;
            }
        }
        Self { n, groups, sq }
    }
}

/// `exp(−2 log ℓ_g)`: the weights of the squared differences.
pub(crate) fn inverse_squared_lengthscales(theta: &[f64], groups: usize) -> Vec<f64> {
    theta[..groups].iter().map(|l| (-2.0 * l).exp()).collect()
}

/// The signal part of the kernel matrix (`σ_f²` on the diagonal) and, for every pair, the
/// derivative factor of [`matern52`].
fn signal_matrix(pairs: &Pairs, theta: &[f64]) -> (DMatrix<f64>, Vec<f64>) {
    let (n, groups) = (pairs.n, pairs.groups);
    let w = inverse_squared_lengthscales(theta, groups);
    let s2 = theta[groups].exp();
    let mut k = DMatrix::from_element(n, n, s2);
    let mut dcoef = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    let mut p = 0;
    for j in 0..n {
        for i in 0..j {
            let row = &pairs.sq[p * groups..(p + 1) * groups];
            let r2: f64 = row.iter().zip(&w).map(|(s, w)| s * w).sum();
            let (kij, c) = matern52(r2, s2);
            k[(i, j)] = kij;
            k[(j, i)] = kij;
            dcoef.push(c);
            p += 1;
        }
    }
    (k, dcoef)
}

/// Factorises `k + δ I` for the first jitter δ of [`JITTERS`] (times `scale`) that works.
pub(crate) fn cholesky_with_jitter(
    k: DMatrix<f64>,
    scale: f64,
    theta: &[f64],
) -> Result<(Cholesky<f64, Dyn>, f64)> {
    let n = k.nrows();
    for rel in JITTERS {
        let jitter = rel * scale;
        let mut m = k.clone();
        for i in 0..n {
            m[(i, i)] += jitter;
        }
        if let Some(chol) = Cholesky::new(m) {
            return Ok((chol, jitter));
        }
    }
    Err(GpError::NotPositiveDefinite {
        points: n,
        jitter: JITTERS[JITTERS.len() - 1] * scale,
        hyper: theta.to_vec(),
    })
}

/// The inverse of a lower-triangular matrix with a positive diagonal (column by column,
/// axpy form: `n³/6` multiply-adds on contiguous columns).
pub(crate) fn lower_inverse(l: &DMatrix<f64>) -> DMatrix<f64> {
    let n = l.nrows();
    let mut x = DMatrix::zeros(n, n);
    let ls = l.as_slice();
    for (j, xs) in x.as_mut_slice().chunks_exact_mut(n.max(1)).enumerate() {
        xs[j] = 1.0;
        for k in j..n {
            let lk = &ls[k * n..(k + 1) * n];
            xs[k] /= lk[k];
            let xk = xs[k];
            if xk != 0.0 {
                for (xi, li) in xs[k + 1..].iter_mut().zip(&lk[k + 1..]) {
                    *xi -= li * xk;
                }
            }
        }
    }
    x
}

/// `K⁻¹ = L⁻ᵀ L⁻¹` from the Cholesky factor `L` (the product by matrix multiplication).
pub(crate) fn inverse_from_factor(l: &DMatrix<f64>) -> DMatrix<f64> {
    let linv = lower_inverse(l);
    linv.transpose() * &linv
}

/// The log marginal likelihood of standardised targets `y` under log hyper-parameters
/// `theta`, and its gradient with respect to `theta` when `with_grad`.
///
/// `log p(y) = −½ yᵀα − Σ log L_ii − (n/2) log 2π` with `K = L Lᵀ`, `α = K⁻¹y`, and
/// `∂/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ)`.
pub(crate) fn lml(
    pairs: &Pairs,
    y: &[f64],
    theta: &[f64],
    with_grad: bool,
) -> Result<(f64, Option<Vec<f64>>)> {
    let (n, groups) = (pairs.n, pairs.groups);
    let (mut k, dcoef) = signal_matrix(pairs, theta);
    let s2 = theta[groups].exp();
    let noise = theta[groups + 1].exp();
    for i in 0..n {
        k[(i, i)] += noise;
    }
    let (chol, _) = cholesky_with_jitter(k.clone(), s2 + noise, theta)?;
    let alpha = chol.solve(&DVector::from_column_slice(y));
    let l = chol.l_dirty();
    let log_det_half: f64 = (0..n).map(|i| l[(i, i)].ln()).sum();
    let value = -0.5 * alpha.dot(&DVector::from_column_slice(y))
        - log_det_half
        - 0.5 * n as f64 * std::f64::consts::TAU.ln();
    if !value.is_finite() {
        return Err(GpError::NotPositiveDefinite {
            points: n,
            jitter: 0.0,
            hyper: theta.to_vec(),
        });
    }
    if !with_grad {
        return Ok((value, None));
    }
    // W = ααᵀ − K⁻¹, only its upper triangle and diagonal are read.
    let kinv = inverse_from_factor(&chol.l());
    let w_of = |i: usize, j: usize| alpha[i] * alpha[j] - kinv[(i, j)];
    let inv_l2 = inverse_squared_lengthscales(theta, groups);
    let mut grad = vec![0.0; groups + 2];
    let (ls_grad, rest) = grad.split_at_mut(groups);
    let mut signal = 0.0;
    let mut p = 0;
    for j in 0..n {
        for i in 0..j {
            let wij = w_of(i, j);
            // Off-diagonal pairs count twice, and the ½ of the trace cancels that.
            signal += wij * k[(i, j)];
            let t = wij * dcoef[p];
            let row = &pairs.sq[p * groups..(p + 1) * groups];
            for (g, s) in ls_grad.iter_mut().zip(row) {
                *g += t * s;
            }
            p += 1;
        }
    }
    for (g, w) in ls_grad.iter_mut().zip(&inv_l2) {
        *g *= w;
    }
    let trace_w: f64 = (0..n).map(|i| w_of(i, i)).sum();
    rest[0] = signal + 0.5 * s2 * trace_w;
    rest[1] = 0.5 * noise * trace_w;
    Ok((value, Some(grad)))
}

/// The log marginal likelihood of `data` (its targets standardised as in
/// [`TrainingData::standardisation`]) under `hyper`, and its gradient in the layout of
/// [`Hyper::to_vec`].
pub fn log_marginal_likelihood(data: &TrainingData, hyper: &Hyper) -> Result<(f64, Vec<f64>)> {
    if hyper.num_groups() != data.num_groups {
        return Err(GpError::InvalidData(format!(
            "{} length-scales for data with {} groups",
            hyper.num_groups(),
            data.num_groups
        )));
    }
    let (mean, sd) = data.standardisation();
    let y: Vec<f64> = data.y.iter().map(|v| (v - mean) / sd).collect();
    let (value, grad) = lml(&Pairs::new(data), &y, &hyper.to_vec(), true)?;
    Ok((value, grad.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn triangular_and_full_inverses() {
        let a = DMatrix::from_row_slice(3, 3, &[4.0, 2.0, 0.4, 2.0, 3.0, 0.5, 0.4, 0.5, 2.0]);
        let chol = Cholesky::new(a.clone()).unwrap();
        let l = chol.l();
        let eye = DMatrix::<f64>::identity(3, 3);
        assert!((&l * lower_inverse(&l) - &eye).norm() < 1e-12);
        assert!((&a * inverse_from_factor(&l) - &eye).norm() < 1e-12);
    }

    #[test]
    fn matern_at_zero_and_far() {
        assert_eq!(matern52(0.0, 2.0).0, 2.0);
        assert!(matern52(400.0, 1.0).0 < 1e-6);
        // k(1) = (1 + √5 + 5/3) e^{−√5}
        let want = (1.0 + SQRT5 + 5.0 / 3.0) * (-SQRT5).exp();
        assert!((matern52(1.0, 1.0).0 - want).abs() < 1e-15);
    }

    fn data_strategy() -> impl Strategy<Value = (TrainingData, Hyper)> {
        (3usize..8, 1usize..4).prop_flat_map(|(n, d)| {
            (
                prop::collection::vec(prop::collection::vec(0.0..1.0f64, d), n),
                prop::collection::vec(-2.0..2.0f64, n),
                prop::collection::vec(-1.5..1.0f64, d),
                -1.0..1.0f64,
                -6.0..-1.0f64,
            )
                .prop_map(move |(x, y, ls, s, noise)| {
                    let data = TrainingData::with_groups((0..d).collect(), d, x, y);
                    let hyper = Hyper {
                        log_lengthscales: ls,
                        log_signal_var: s,
                        log_noise_var: noise,
                    };
                    (data.unwrap_or_else(|e| panic!("{e}")), hyper)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// The analytic gradient matches central finite differences.
        #[test]
        fn gradient_matches_finite_differences((data, hyper) in data_strategy()) {
            let (_, grad) = log_marginal_likelihood(&data, &hyper).unwrap();
            let theta = hyper.to_vec();
            for k in 0..theta.len() {
                let h = 1e-5;
                let at = |d: f64| {
                    let mut t = theta.clone();
                    t[k] += d;
                    log_marginal_likelihood(&data, &Hyper::from_slice(&t).unwrap()).unwrap().0
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                let tol = 1e-4 * (1.0 + fd.abs());
                prop_assert!((fd - grad[k]).abs() < tol, "θ{k}: analytic {} vs fd {fd}", grad[k]);
            }
        }
    }
}
