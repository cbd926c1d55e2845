//! The Gaussian-process posterior for fixed hyper-parameters: predictions and conditioning
//! on more (possibly fantasised) observations.

use nalgebra::{DMatrix, DVector};

use crate::likelihood::{cholesky_with_jitter, lower_inverse, matern52};
use crate::{GpError, Hyper, Result, TrainingData};

/// A posterior prediction of the latent function, in the units of the targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// Posterior mean.
    pub mean: f64,
    /// Posterior variance of the latent function (observation noise excluded), ≥ 0.
    pub var: f64,
}

impl Prediction {
    /// Posterior standard deviation.
    pub fn sd(&self) -> f64 {
        self.var.sqrt()
    }
}

/// A Gaussian process conditioned on training data: zero prior mean on standardised
/// targets, Matérn-5/2 ARD kernel, Gaussian observation noise.
#[derive(Debug, Clone)]
pub struct Gp {
    hyper: Hyper,
    column_groups: Vec<usize>,
    /// Per column, `1 / ℓ` of its group.
    column_scale: Vec<f64>,
    /// Training inputs as given.
    x: Vec<Vec<f64>>,
    /// Training inputs with each column multiplied by its `column_scale`.
    x_scaled: Vec<Vec<f64>>,
    /// Standardised targets.
    y: Vec<f64>,
    y_mean: f64,
    y_sd: f64,
    s2: f64,
    jitter: f64,
    /// The inverse of the kernel matrix's Cholesky factor.
    linv: DMatrix<f64>,
    alpha: DVector<f64>,
    lml: f64,
}

impl Gp {
    /// The posterior of `data` under `hyper` (no fitting), targets standardised with
    /// [`TrainingData::standardisation`].
    pub fn new(data: &TrainingData, hyper: Hyper) -> Result<Self> {
        if hyper.num_groups() != data.num_groups {
            return Err(GpError::InvalidData(format!(
                "{} length-scales for data with {} groups",
                hyper.num_groups(),
                data.num_groups
            )));
        }
        if !hyper.is_finite() {
            return Err(GpError::InvalidData(format!(
                "hyper-parameters must be finite: {hyper:?}"
            )));
        }
        let (mean, sd) = data.standardisation();
        let y = data.y.iter().map(|v| (v - mean) / sd).collect();
        Self::build(
            hyper,
            data.column_groups.clone(),
            data.x.clone(),
            y,
            mean,
            sd,
        )
    }

    fn build(
        hyper: Hyper,
        column_groups: Vec<usize>,
        x: Vec<Vec<f64>>,
        y: Vec<f64>,
        y_mean: f64,
        y_sd: f64,
    ) -> Result<Self> {
        let inv_ls: Vec<f64> = hyper.log_lengthscales.iter().map(|l| (-l).exp()).collect();
        let column_scale: Vec<f64> = column_groups.iter().map(|&g| inv_ls[g]).collect();
        let x_scaled: Vec<Vec<f64>> = x.iter().map(|r| scale(r, &column_scale)).collect();
        let n = x.len();
        let s2 = hyper.signal_var();
        let noise = hyper.noise_var();
        let mut k = DMatrix::from_element(n, n, s2 + noise);
        for j in 0..n {
            for i in 0..j {
                let kij = matern52(sq_dist(&x_scaled[i], &x_scaled[j]), s2).0;
                k[(i, j)] = kij;
                k[(j, i)] = kij;
            }
        }
        let (chol, jitter) = cholesky_with_jitter(k, s2 + noise, &hyper.to_vec())?;
        let yv = DVector::from_column_slice(&y);
        let alpha = chol.solve(&yv);
        let l = chol.unpack();
        let linv = lower_inverse(&l);
        let log_det_half: f64 = (0..n).map(|i| l[(i, i)].ln()).sum();
        let lml =
            -0.5 * alpha.dot(&yv) - log_det_half - 0.5 * n as f64 * std::f64::consts::TAU.ln();
        Ok(Self {
            hyper,
            column_groups,
            column_scale,
            x,
            x_scaled,
            y,
            y_mean,
            y_sd,
            s2,
            jitter,
            linv,
            alpha,
            lml,
        })
    }

    /// The hyper-parameters.
    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    /// The log marginal likelihood of the standardised training targets.
    pub fn log_marginal_likelihood(&self) -> f64 {
        self.lml
    }

    /// The jitter that had to be added to the kernel matrix's diagonal (0 normally).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Number of training points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no training points (never: construction refuses it).
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Mean and standard deviation the targets were standardised with.
    pub fn standardisation(&self) -> (f64, f64) {
        (self.y_mean, self.y_sd)
    }

    /// Posterior mean and variance at each of `xs` (rows in the unit cube).
    pub fn predict(&self, xs: &[Vec<f64>]) -> Vec<Prediction> {
        let (n, m) = (self.x.len(), xs.len());
        if m == 0 {
            return Vec::new();
        }
        let mut kstar = DMatrix::zeros(n, m);
        for (t, x) in xs.iter().enumerate() {
            let xt = scale(x, &self.column_scale);
            for (i, xi) in self.x_scaled.iter().enumerate() {
                kstar[(i, t)] = matern52(sq_dist(xi, &xt), self.s2).0;
            }
        }
        let means = kstar.tr_mul(&self.alpha);
        let v = &self.linv * &kstar;
        (0..m)
            .map(|t| {
                let explained = v.column(t).norm_squared();
                Prediction {
                    mean: self.y_mean + self.y_sd * means[t],
                    var: (self.s2 - explained).max(0.0) * self.y_sd * self.y_sd,
                }
            })
            .collect()
    }

    /// Posterior mean and variance at one point.
    pub fn predict_one(&self, x: &[f64]) -> Prediction {
        self.predict(&[x.to_vec()])[0]
    }

    /// The posterior after also observing `y` (in target units) at `xs`, with the same
    /// hyper-parameters and standardisation: the kriging-believer step of batch asks, where
    /// `y` are the current posterior means.
    pub fn condition_on(&self, xs: &[Vec<f64>], y: &[f64]) -> Result<Self> {
        if xs.len() != y.len() || xs.iter().any(|r| r.len() != self.column_groups.len()) {
            return Err(GpError::InvalidData(
                "new points and targets do not match the model".into(),
            ));
        }
        if y.iter().any(|v| !v.is_finite()) {
            return Err(GpError::InvalidData("targets must be finite".into()));
        }
        let mut x = self.x.clone();
        x.extend(xs.iter().cloned());
        let mut ys = self.y.clone();
        ys.extend(y.iter().map(|v| (v - self.y_mean) / self.y_sd));
        Self::build(
            self.hyper.clone(),
            self.column_groups.clone(),
            x,
            ys,
            self.y_mean,
            self.y_sd,
        )
    }
}

fn scale(x: &[f64], s: &[f64]) -> Vec<f64> {
    x.iter().zip(s).map(|(a, b)| a * b).collect()
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_points() -> TrainingData {
        TrainingData::with_groups(
            vec![0],
            1,
            vec![vec![0.0], vec![0.5], vec![1.0]],
            vec![1.0, 2.0, 0.0],
        )
        .unwrap()
    }

    fn hyper() -> Hyper {
        Hyper {
            log_lengthscales: vec![0.5f64.ln()],
            log_signal_var: 0.0,
            log_noise_var: 1e-4f64.ln(),
        }
    }

    /// Against values computed by hand (plain Gaussian elimination on the 3×3 kernel matrix,
    /// targets standardised by their mean 1 and population deviation √(2/3)).
    #[test]
    fn three_point_posterior() {
        let gp = Gp::new(&three_points(), hyper()).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * (1.0 + b.abs());
        let want = [
            (0.25, 1.722380259121858, 0.06028826189147152),
            (0.75, 1.0891544861806493, 0.060288261891471594),
            (0.5, 1.999718050327946, 6.665379352536563e-05),
        ];
        for (x, mean, var) in want {
            let p = gp.predict_one(&[x]);
            assert!(close(p.mean, mean), "mean at {x}: {} vs {mean}", p.mean);
            assert!(close(p.var, var), "variance at {x}: {} vs {var}", p.var);
        }
        assert!(close(gp.log_marginal_likelihood(), -6.270476488953856));
        let (lml, _) = crate::log_marginal_likelihood(&three_points(), &hyper()).unwrap();
        assert!(close(lml, -6.270476488953856));
        assert_eq!(gp.jitter(), 0.0);
        // Far away the prior comes back: mean → the targets' mean, variance → σ_f² · sd².
        let far = gp.predict_one(&[40.0]);
        assert!(close(far.mean, 1.0) && close(far.var, 2.0 / 3.0), "{far:?}");
    }

    #[test]
    fn conditioning_on_the_mean_keeps_it_and_shrinks_the_variance() {
        let gp = Gp::new(&three_points(), hyper()).unwrap();
        let before = gp.predict_one(&[0.25]);
        let after = gp
            .condition_on(&[vec![0.25]], &[before.mean])
            .unwrap()
            .predict_one(&[0.25]);
        assert!((after.mean - before.mean).abs() < 1e-6, "{after:?}");
        assert!(after.var < 1e-2 * before.var, "{after:?}");
        assert!(gp.condition_on(&[vec![0.1]], &[f64::NAN]).is_err());
        assert!(gp.condition_on(&[vec![0.1, 0.2]], &[1.0]).is_err());
    }

    #[test]
    fn duplicate_points_need_no_escape_hatch_and_bad_hyper_is_refused() {
        let x = vec![vec![0.3]; 6];
        let data = TrainingData::with_groups(vec![0], 1, x, vec![1.0; 6]).unwrap();
        let mut h = hyper();
        h.log_noise_var = 1e-6f64.ln();
        let gp = Gp::new(&data, h.clone()).unwrap();
        assert!(gp.predict_one(&[0.3]).var < 1e-3);
        h.log_signal_var = f64::NAN;
        assert!(Gp::new(&data, h).is_err());
        let wrong = Hyper::initial(2);
        assert!(Gp::new(&data, wrong).is_err());
    }
}
