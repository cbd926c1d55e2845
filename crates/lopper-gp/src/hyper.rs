//! Kernel hyper-parameters, their bounds and their weak priors.

use serde::{Deserialize, Serialize};

use crate::{GpError, Result};

/// The hyper-parameters of the Matérn-5/2 ARD kernel plus observation noise, in log space
/// (the space they are fitted in), for outputs standardised to mean 0 and variance 1.
///
/// As a flat vector (see [`Hyper::to_vec`]) they are laid out
/// `[log ℓ₁, …, log ℓ_G, log σ_f², log σ_n²]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// `log ℓ_g`, one length-scale per group of columns (see
    /// [`Encoding`](crate::Encoding)).
    pub log_lengthscales: Vec<f64>,
    /// `log σ_f²`, the signal variance.
    pub log_signal_var: f64,
    /// `log σ_n²`, the observation-noise variance.
    pub log_noise_var: f64,
}

impl Hyper {
    /// The starting point of every cold fit: all length-scales 0.5 (half the unit cube),
    /// signal variance 1, noise variance 10⁻³.
    pub fn initial(num_groups: usize) -> Self {
        Self {
            log_lengthscales: vec![0.5f64.ln(); num_groups],
            log_signal_var: 0.0,
            log_noise_var: 1e-3f64.ln(),
        }
    }

    /// Number of length-scales.
    pub fn num_groups(&self) -> usize {
        self.log_lengthscales.len()
    }

    /// The length-scales `ℓ_g`.
    pub fn lengthscales(&self) -> Vec<f64> {
        self.log_lengthscales.iter().map(|l| l.exp()).collect()
    }

    /// The signal variance `σ_f²` (in standardised units).
    pub fn signal_var(&self) -> f64 {
        self.log_signal_var.exp()
    }

    /// The noise variance `σ_n²` (in standardised units).
    pub fn noise_var(&self) -> f64 {
        self.log_noise_var.exp()
    }

    /// The flat vector `[log ℓ…, log σ_f², log σ_n²]`.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = self.log_lengthscales.clone();
        v.push(self.log_signal_var);
        v.push(self.log_noise_var);
        v
    }

    /// The inverse of [`Hyper::to_vec`]; needs at least two entries.
    pub fn from_slice(v: &[f64]) -> Result<Self> {
        match v {
            [ls @ .., signal, noise] => Ok(Self {
                log_lengthscales: ls.to_vec(),
                log_signal_var: *signal,
                log_noise_var: *noise,
            }),
            _ => Err(GpError::InvalidData(format!(
                "a hyper-parameter vector needs at least 2 entries, not {}",
                v.len()
            ))),
        }
    }

    /// Whether every entry is finite.
    pub fn is_finite(&self) -> bool {
        self.to_vec().iter().all(|v| v.is_finite())
    }
}

/// Box bounds on the hyper-parameters, in natural units (the fit works on their logs).
/// Outputs are standardised and inputs live in the unit cube, so the defaults fit any
/// problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HyperBounds {
    /// Length-scales (default `[0.01, 100]`: from a hundredth of the cube to "irrelevant").
    pub lengthscale: [f64; 2],
    /// Signal variance (default `[0.05, 20]`).
    pub signal_var: [f64; 2],
    /// Noise variance (default `[1e-6, 1]`; the lower end keeps the kernel matrix
    /// invertible for noise-free objectives).
    pub noise_var: [f64; 2],
}

impl Default for HyperBounds {
    fn default() -> Self {
        Self {
            lengthscale: [0.01, 100.0],
            signal_var: [0.05, 20.0],
            noise_var: [1e-6, 1.0],
        }
    }
}

impl HyperBounds {
    /// Checks that each range is positive, finite and not empty.
    pub fn validate(&self) -> Result<()> {
        for (name, [lo, hi]) in [
            ("lengthscale", self.lengthscale),
            ("signal_var", self.signal_var),
            ("noise_var", self.noise_var),
        ] {
            if !(lo > 0.0 && hi > lo && hi.is_finite()) {
                return Err(GpError::InvalidOptions(format!(
                    "bounds.{name} must be [low, high] with 0 < low < high < inf, not [{lo}, {hi}]"
                )));
            }
        }
        Ok(())
    }

    /// The `[low, high]` bounds of each log hyper-parameter, in [`Hyper::to_vec`] order.
    pub fn log_box(&self, num_groups: usize) -> Vec<(f64, f64)> {
        let log = |[lo, hi]: [f64; 2]| (lo.ln(), hi.ln());
        let mut b = vec![log(self.lengthscale); num_groups];
        b.push(log(self.signal_var));
        b.push(log(self.noise_var));
        b
    }
}

/// The weak Gaussian priors on the log hyper-parameters that regularise fits on few
/// points: `log ℓ ~ N(0, 2²)` (a median length-scale of the whole cube, a factor e² ≈ 7.4 per
/// standard deviation) and `log σ_f² ~ N(0, 2²)`; the noise has none beyond its bounds.
/// Returns the negative log density (up to a constant) and adds its gradient into `grad`.
pub(crate) fn neg_log_prior(theta: &[f64], grad: &mut [f64]) -> f64 {
    const SD2: f64 = 4.0;
    let g = theta.len() - 1; // everything but the noise
    let mut value = 0.0;
    for (t, d) in theta[..g].iter().zip(&mut grad[..g]) {
        value += t * t / (2.0 * SD2);
        *d += t / SD2;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_round_trip_and_bounds() {
        let h = Hyper::initial(3);
        assert_eq!(Hyper::from_slice(&h.to_vec()).unwrap(), h);
        assert!(Hyper::from_slice(&[1.0]).is_err());
        assert_eq!(h.lengthscales(), vec![0.5; 3]);
        let b = HyperBounds::default();
        b.validate().unwrap();
        assert_eq!(b.log_box(2).len(), 4);
        let bad = HyperBounds {
            noise_var: [0.0, 1.0],
            ..b
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn prior_gradient() {
        let theta = [0.3, -1.0, 0.5, -7.0];
        let mut g = vec![0.0; 4];
        let v = neg_log_prior(&theta, &mut g);
        assert!((v - (0.09 + 1.0 + 0.25) / 8.0).abs() < 1e-12);
        assert_eq!(g[3], 0.0);
        assert!((g[1] + 0.25).abs() < 1e-12);
    }
}
