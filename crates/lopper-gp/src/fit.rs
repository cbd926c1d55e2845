//! Hyper-parameter fitting: maximum a posteriori log hyper-parameters (log marginal
//! likelihood plus the weak priors of [`HyperBounds`]' companion prior), by argmin's L-BFGS
//! from several seeded starts.
//!
//! The box bounds are enforced by a change of variables: each log hyper-parameter is
//! `lo + (hi − lo) · sigmoid(u)` and L-BFGS works on the unconstrained `u`.

use std::cell::RefCell;

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DVector;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::hyper::neg_log_prior;
use crate::likelihood::{Pairs, lml};
use crate::{Gp, GpError, Hyper, HyperBounds, Result, TrainingData};

/// How hyper-parameters are fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FitOptions {
    /// Box bounds of the hyper-parameters.
    pub bounds: HyperBounds,
    /// Random starts of a cold fit, besides the fixed one of [`Hyper::initial`]
    /// (default 3).
    pub restarts: usize,
    /// Random starts of a warm fit, besides the warm start itself (default 0).
    pub warm_restarts: usize,
    /// L-BFGS iterations per start of a cold fit (default 60).
    pub max_iters: u64,
    /// L-BFGS iterations per start of a warm fit (default 20).
    pub warm_max_iters: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            bounds: HyperBounds::default(),
            restarts: 3,
            warm_restarts: 0,
            max_iters: 60,
            warm_max_iters: 20,
        }
    }
}

impl FitOptions {
    /// Checks the bounds and that every start gets at least one iteration.
    pub fn validate(&self) -> Result<()> {
        self.bounds.validate()?;
        if self.max_iters == 0 || self.warm_max_iters == 0 {
            return Err(GpError::InvalidOptions(
                "max_iters and warm_max_iters must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// One evaluation: the unconstrained point, the cost and its gradient.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The negative log posterior of the unconstrained parameters `u`, with a cache so that the
/// cost and gradient calls argmin makes at one point cost one evaluation.
struct Objective<'a> {
    pairs: &'a Pairs,
    y: &'a [f64],
    bounds: &'a [(f64, f64)],
    cache: RefCell<Option<Evaluation>>,
}

impl Objective<'_> {
    fn theta(&self, u: &[f64]) -> Vec<f64> {
        u.iter()
            .zip(self.bounds)
            .map(|(u, (lo, hi))| lo + (hi - lo) * sigmoid(*u))
            .collect()
    }

    fn unconstrained(&self, theta: &[f64], clamp: f64) -> Vec<f64> {
        theta
            .iter()
            .zip(self.bounds)
            .map(|(t, (lo, hi))| {
                let s = ((t - lo) / (hi - lo)).clamp(1e-9, 1.0 - 1e-9);
                (s / (1.0 - s)).ln().clamp(-clamp, clamp)
            })
            .collect()
    }

    fn eval(&self, u: &[f64]) -> Result<(f64, Vec<f64>)> {
        if let Some((cu, c, g)) = self.cache.borrow().as_ref()
            && cu.as_slice() == u
        {
            return Ok((*c, g.clone()));
        }
        let theta = self.theta(u);
        let (value, grad) = lml(self.pairs, self.y, &theta, true)?;
        let mut grad: Vec<f64> = grad.unwrap_or_default().iter().map(|g| -g).collect();
        let cost = -value + neg_log_prior(&theta, &mut grad);
        for ((g, u), (lo, hi)) in grad.iter_mut().zip(u).zip(self.bounds) {
            let s = sigmoid(*u);
            *g *= (hi - lo) * s * (1.0 - s);
        }
        if !cost.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Err(GpError::Fit(format!("non-finite objective at {theta:?}")));
        }
        *self.cache.borrow_mut() = Some((u.to_vec(), cost, grad.clone()));
        Ok((cost, grad))
    }
}

impl CostFunction for Objective<'_> {
    type Param = DVector<f64>;
    type Output = f64;
    fn cost(&self, u: &DVector<f64>) -> std::result::Result<f64, ArgminError> {
        Ok(self.eval(u.as_slice())?.0)
    }
}

impl Gradient for Objective<'_> {
    type Param = DVector<f64>;
    type Gradient = DVector<f64>;
    fn gradient(&self, u: &DVector<f64>) -> std::result::Result<DVector<f64>, ArgminError> {
        Ok(DVector::from_vec(self.eval(u.as_slice())?.1))
    }
}

/// Runs L-BFGS from `u0` for at most `iters` iterations; returns the best point and cost.
fn minimise(objective: Objective<'_>, u0: Vec<f64>, iters: u64) -> Result<(Vec<f64>, f64)> {
    let start_cost = objective.eval(&u0)?.0;
    let fail = |e: ArgminError| GpError::Fit(e.to_string());
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-6)
        .map_err(fail)?
        .with_tolerance_cost(1e-10)
        .map_err(fail)?;
    let run = Executor::new(objective, solver)
        .configure(|s| s.param(DVector::from_vec(u0.clone())).max_iters(iters))
        .timer(false)
        .run();
    match run {
        Ok(res) => {
            let state = res.state();
            match state.get_best_param() {
                Some(p) if state.get_best_cost() <= start_cost => {
                    Ok((p.as_slice().to_vec(), state.get_best_cost()))
                }
                _ => Ok((u0, start_cost)),
            }
        }
        // A line search that strays into a region where the kernel matrix cannot be
        // factorised ends this start; its starting point is still a valid answer.
        Err(_) => Ok((u0, start_cost)),
    }
}

/// Fits the hyper-parameters of a Gaussian process to `data` and returns its posterior.
///
/// A *cold* fit (`warm = None`, or a warm start of the wrong size) starts L-BFGS from
/// [`Hyper::initial`] and from `options.restarts` random points of the central part of the
/// bounds (drawn from `rng`), `options.max_iters` iterations each. A *warm* fit starts from
/// `warm` (moved slightly inside the bounds if it sits on one) and from
/// `options.warm_restarts` random points, `options.warm_max_iters` iterations each. The start
/// reaching the highest log posterior wins.
pub fn fit(
    data: &TrainingData,
    options: &FitOptions,
    warm: Option<&Hyper>,
    rng: &mut dyn Rng,
) -> Result<Gp> {
    options.validate()?;
    let groups = data.num_groups;
    let bounds = options.bounds.log_box(groups);
    let (mean, sd) = data.standardisation();
    let y: Vec<f64> = data.y.iter().map(|v| (v - mean) / sd).collect();
    let pairs = Pairs::new(data);
    let objective = || Objective {
        pairs: &pairs,
        y: &y,
        bounds: &bounds,
        cache: RefCell::new(None),
    };
    let warm = warm.filter(|h| h.num_groups() == groups && h.is_finite());
    let initial = objective().unconstrained(&Hyper::initial(groups).to_vec(), 10.0);
    let (mut starts, random, iters) = match warm {
        Some(h) => (
            vec![objective().unconstrained(&h.to_vec(), 5.0)],
            options.warm_restarts,
            options.warm_max_iters,
        ),
        None => (vec![initial], options.restarts, options.max_iters),
    };
    for _ in 0..random {
        starts.push(
            (0..bounds.len())
                .map(|_| rng.random_range(-2.0..2.0))
                .collect(),
        );
    }
    let mut best: Option<(Vec<f64>, f64)> = None;
    let mut last_error = None;
    for u0 in starts {
        match minimise(objective(), u0, iters) {
            Ok((u, cost)) if best.as_ref().is_none_or(|(_, c)| cost < *c) => best = Some((u, cost)),
            Ok(_) => {}
            Err(e) => last_error = Some(e),
        }
    }
    let Some((u, _)) = best else {
        return Err(last_error.unwrap_or_else(|| GpError::Fit("no start".into())));
    };
    Gp::new(data, Hyper::from_slice(&objective().theta(&u))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::seeded_rng;

    fn data_of(f: impl Fn(&[f64]) -> f64, n: usize, d: usize, seed: u64) -> TrainingData {
        let mut rng = seeded_rng(seed);
        let x: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..d).map(|_| rng.random::<f64>()).collect())
            .collect();
        let y = x.iter().map(|r| f(r)).collect();
        TrainingData::with_groups((0..d).collect(), d, x, y).unwrap()
    }

    /// A fit that does nothing fails here: only x1 matters, so the other length-scales must
    /// come out at least five times longer.
    #[test]
    fn irrelevant_dimensions_get_long_lengthscales() {
        let f = |x: &[f64]| (std::f64::consts::TAU * x[0]).sin() + 0.5 * x[0];
        for seed in 0..3 {
            let data = data_of(f, 40, 5, seed);
            let gp = fit(&data, &FitOptions::default(), None, &mut seeded_rng(seed)).unwrap();
            let ls = gp.hyper().lengthscales();
            for (d, l) in ls.iter().enumerate().skip(1) {
                assert!(
                    *l >= 5.0 * ls[0],
                    "seed {seed}: ℓ{} = {l} vs ℓ1 = {}",
                    d + 1,
                    ls[0]
                );
            }
            // And the fit beats its starting point.
            let start = Gp::new(&data, Hyper::initial(5)).unwrap();
            assert!(gp.log_marginal_likelihood() > start.log_marginal_likelihood());
        }
    }

    #[test]
    fn warm_fit_stays_close_to_cold_fit() {
        let f = |x: &[f64]| x[0] * x[0] + (3.0 * x[1]).cos();
        let data = data_of(f, 30, 3, 7);
        let opts = FitOptions::default();
        let cold = fit(&data, &opts, None, &mut seeded_rng(1)).unwrap();
        let more = data_of(f, 34, 3, 7);
        let warm = fit(&more, &opts, Some(cold.hyper()), &mut seeded_rng(1)).unwrap();
        let recold = fit(&more, &opts, None, &mut seeded_rng(1)).unwrap();
        let gap = recold.log_marginal_likelihood() - warm.log_marginal_likelihood();
        assert!(gap < 1.0, "warm fit is {gap} nats worse than a cold one");
        // Hyper-parameters survive JSON (the optimizers checkpoint them).
        let json = serde_json::to_string(warm.hyper()).unwrap();
        assert_eq!(&serde_json::from_str::<Hyper>(&json).unwrap(), warm.hyper());
    }

    #[test]
    fn fits_are_seeded_and_options_checked() {
        let data = data_of(|x| x[0] - x[1], 12, 2, 3);
        let opts = FitOptions::default();
        let a = fit(&data, &opts, None, &mut seeded_rng(5)).unwrap();
        let b = fit(&data, &opts, None, &mut seeded_rng(5)).unwrap();
        assert_eq!(a.hyper(), b.hyper());
        let bad = FitOptions {
            max_iters: 0,
            ..FitOptions::default()
        };
        assert!(fit(&data, &bad, None, &mut seeded_rng(5)).is_err());
        // Bounds hold.
        let b = opts.bounds.log_box(2);
        for (t, (lo, hi)) in a.hyper().to_vec().iter().zip(b) {
            assert!(*t >= lo - 1e-12 && *t <= hi + 1e-12);
        }
    }
}
