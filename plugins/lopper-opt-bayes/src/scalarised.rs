//! Bayesian optimisation of one scalarised objective with expected improvement: `ls-bo` (a
//! fixed weighted sum) and `parego` (a random augmented Chebyshev scalarisation per ask;
//! Knowles, "ParEGO: A Hybrid Algorithm With On-Line Landscape Approximation for Expensive
//! Multiobjective Optimization Problems", IEEE TEC 10(1), 2006). `rs-bo` is in
//! [`crate::rsbo`].
//!
//! Objectives are normalised to `[0, 1]` by their observed minimum and range before they are
//! combined.

use std::collections::HashSet;

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, Point, Result, Space, Trial, inventory,
};
use lopper_gp::{Encoding, Gp};
use serde::{Deserialize, Serialize};

use crate::BoSettings;
use crate::acquisition::expected_improvement;
use crate::config::{check_weights, config_error, parse_strict};
use crate::driver::{Proposer, ask_with, believe, encoded};
use crate::engine::{Engine, min_and_range, random_simplex};
use crate::search::maximise;

/// The name of the linear-scalarisation plugin.
pub const LS_BO: &str = "ls-bo";
/// The name of the ParEGO plugin.
pub const PAREGO: &str = "parego";

/// Normalised objective vectors of the observations: `(y − min) / range` per objective.
pub(crate) fn normalised(engine: &Engine) -> Vec<Vec<f64>> {
    let values = engine.clean_values();
    let (lo, range) = min_and_range(&values, engine.num_objectives());
    values
        .iter()
        .map(|v| {
            v.iter()
                .zip(lo.iter().zip(&range))
                .map(|(y, (l, r))| (y - l) / r)
                .collect()
        })
        .collect()
}

/// Where local search starts: the observed points with the four lowest `score`s, then up
/// to four points of the observed Pareto front.
pub(crate) fn incumbents(engine: &Engine, score: &[f64]) -> Vec<Point> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    let mut out: Vec<Point> = order
        .into_iter()
        .take(4)
        .map(|i| engine.observations()[i].point.clone())
        .collect();
    for p in engine.front_points(4) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Expected improvement on one Gaussian process of a scalar target.
struct EiProposer {
    gp: Gp,
    best: f64,
    incumbents: Vec<Point>,
    settings: BoSettings,
    plugin: &'static str,
}

impl EiProposer {
    /// Fits the model of `targets` (one per observation) and believes the outstanding trials.
    fn build(
        engine: &mut Engine,
        encoding: &Encoding,
        targets: Vec<f64>,
        settings: &BoSettings,
        plugin: &'static str,
    ) -> Result<Self> {
        let (obs_rows, out_rows) = encoded(engine, encoding);
        let incumbents = incumbents(engine, &targets);
        let gp = engine.fit_model(0, encoding, &obs_rows, targets.clone(), settings, plugin)?;
        let (gp, means) = believe(&gp, &out_rows, plugin)?;
        let best = targets
            .iter()
            .chain(&means)
            .copied()
            .fold(f64::INFINITY, f64::min);
        Ok(Self {
            gp,
            best,
            incumbents,
            settings: settings.clone(),
            plugin,
        })
    }
}

impl Proposer for EiProposer {
    fn propose(
        &mut self,
        engine: &mut Engine,
        space: &dyn Space,
        encoding: &Encoding,
        taken: &HashSet<Point>,
    ) -> Result<Point> {
        let (gp, best) = (&self.gp, self.best);
        let mut acq = |_: &[Point], rows: &[Vec<f64>]| {
            gp.predict(rows)
                .iter()
                .map(|p| expected_improvement(best, p.mean, p.sd()))
                .collect()
        };
        let point = maximise(
            space,
            encoding,
            &mut acq,
            &self.incumbents,
            taken,
            &self.settings,
            &mut engine.rng,
        );
        let (gp, means) = believe(&self.gp, &[encoding.encode(&point)], self.plugin)?;
        self.gp = gp;
        self.best = self.best.min(means[0]);
        Ok(point)
    }
}

/// The settings of [`LsBo`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LsBoConfig {
    /// Shared settings (given at the top level).
    #[serde(flatten)]
    pub bo: BoSettings,
    /// One non-negative weight per objective (normalised to sum 1); `null` (default): equal.
    pub weights: Option<Vec<f64>>,
}

/// Bayesian optimisation of a fixed weighted sum of the normalised objectives, with expected
/// improvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LsBo {
    config: LsBoConfig,
    weights: Vec<f64>,
    engine: Engine,
}

impl LsBo {
    /// LS-BO for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: LsBoConfig, num_objectives: usize, seed: u64) -> Result<Self> {
        let engine = Engine::new(LS_BO, num_objectives, seed)?;
        config.bo.validate(LS_BO)?;
        let weights = config
            .weights
            .clone()
            .unwrap_or_else(|| vec![1.0; num_objectives]);
        check_weights(LS_BO, &weights, num_objectives)?;
        let sum: f64 = weights.iter().sum();
        let weights = weights.iter().map(|w| w / sum).collect();
        Ok(Self {
            config,
            weights,
            engine,
        })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(parse_strict(spec, LS_BO)?, spec.num_objectives, spec.seed)
    }

    /// The weights, normalised to sum 1.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

#[typetag::serde(name = "ls-bo")]
impl Optimizer for LsBo {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut engine = self.engine.clone();
        let trials = ask_with(&mut engine, space, n, &self.config.bo, LS_BO, |e, enc| {
            let targets = normalised(e)
                .iter()
                .map(|v| v.iter().zip(&self.weights).map(|(y, w)| y * w).sum())
                .collect();
            EiProposer::build(e, enc, targets, &self.config.bo, LS_BO)
        })?;
        self.engine = engine;
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.engine.tell(done)
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.engine.issue(point))
    }
}

/// The settings of [`ParEgo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParEgoConfig {
    /// Shared settings (given at the top level).
    #[serde(flatten)]
    pub bo: BoSettings,
    /// The weight `ρ` of the linear term of the augmented Chebyshev scalarisation (default
    /// 0.05, Knowles's value).
    pub rho: f64,
}

impl Default for ParEgoConfig {
    fn default() -> Self {
        Self {
            bo: BoSettings::default(),
            rho: 0.05,
        }
    }
}

/// ParEGO: at every ask, weights `λ` drawn uniformly from the simplex, one Gaussian process
/// on `max_j λ_j y_j + ρ Σ_j λ_j y_j` of the normalised objectives, expected improvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParEgo {
    config: ParEgoConfig,
    engine: Engine,
}

impl ParEgo {
    /// ParEGO for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: ParEgoConfig, num_objectives: usize, seed: u64) -> Result<Self> {
        let engine = Engine::new(PAREGO, num_objectives, seed)?;
        config.bo.validate(PAREGO)?;
        if !(config.rho.is_finite() && config.rho >= 0.0) {
            return Err(config_error(
                PAREGO,
                &format!("rho must be finite and non-negative, not {}", config.rho),
            ));
        }
        Ok(Self { config, engine })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(parse_strict(spec, PAREGO)?, spec.num_objectives, spec.seed)
    }
}

#[typetag::serde(name = "parego")]
impl Optimizer for ParEgo {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut engine = self.engine.clone();
        let rho = self.config.rho;
        let trials = ask_with(&mut engine, space, n, &self.config.bo, PAREGO, |e, enc| {
            let m = e.num_objectives();
            let lambda = random_simplex(&mut e.rng, m);
            let targets = normalised(e)
                .iter()
                .map(|v| {
                    let weighted = v.iter().zip(&lambda).map(|(y, l)| y * l);
                    weighted.clone().fold(f64::NEG_INFINITY, f64::max) + rho * weighted.sum::<f64>()
                })
                .collect();
            EiProposer::build(e, enc, targets, &self.config.bo, PAREGO)
        })?;
        self.engine = engine;
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.engine.tell(done)
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.engine.issue(point))
    }
}

fn build_ls_bo(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(LsBo::from_spec(spec)?))
}

fn build_parego(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(ParEgo::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(LS_BO, "Bayesian optimisation of a fixed weighted sum of the normalised objectives (expected improvement)", build_ls_bo)
}

inventory::submit! {
    OptimizerPlugin::new(PAREGO, "ParEGO: random augmented Chebyshev scalarisations, expected improvement (Knowles 2006)", build_parego)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::{CoreError, build_optimizer};
    use lopper_testkit::conformance;
    use serde_json::json;

    // Link the baseline of the quality check.
    use lopper_opt_random as _;

    #[test]
    fn conformance_ls_bo() {
        conformance::run_all_with(LS_BO, json!({}), None).unwrap();
    }

    /// Weights steer the search: with most weight on the first objective, the best first
    /// objective found is lower than with most weight on the second.
    #[test]
    fn weights_steer_ls_bo() {
        let problem = lopper_testkit::problem_by_name("dtlz2").unwrap();
        let best_first = |weights: [f64; 2]| {
            let config = json!({"weights": weights, "initial_corners": false});
            let spec = OptimizerSpec::new(2, 4).with_config(config);
            let mut opt = build_optimizer(LS_BO, &spec).unwrap();
            let trace = lopper_testkit::drive(opt.as_mut(), problem.as_ref(), 30, 1).unwrap();
            trace
                .values()
                .iter()
                .map(|v| v[0])
                .fold(f64::INFINITY, f64::min)
        };
        assert!(best_first([0.95, 0.05]) < best_first([0.05, 0.95]));
    }

    #[test]
    fn conformance_parego() {
        conformance::run_all_with(PAREGO, json!({}), None).unwrap();
    }

    /// Both beat random search on ZDT1 without the head start of the corners.
    #[test]
    fn beat_random_without_corners() {
        for name in [LS_BO, PAREGO] {
            let report = conformance::quality(name, json!({"initial_corners": false}), 60)
                .unwrap_or_else(|e| panic!("{e}"));
            println!("{report}");
        }
    }

    #[test]
    fn configs_are_validated() {
        let build = |name: &str, c| build_optimizer(name, &OptimizerSpec::new(2, 0).with_config(c));
        for (name, bad) in [
            (LS_BO, json!({"weights": [1.0]})),
            (LS_BO, json!({"weights": [-1.0, 2.0]})),
            (LS_BO, json!({"weights": [0.0, 0.0]})),
            (LS_BO, json!({"kappa": 0.5})),
            (PAREGO, json!({"rho": -1.0})),
            (PAREGO, json!({"initial_random": "five"})),
        ] {
            let err = build(name, bad.clone()).err().unwrap();
            assert!(
                matches!(err, CoreError::Config { .. }),
                "{name} {bad}: {err}"
            );
        }
        let ls =
            LsBo::from_spec(&OptimizerSpec::new(2, 0).with_config(json!({"weights": [3.0, 1.0]})))
                .unwrap();
        assert_eq!(ls.weights(), &[0.75, 0.25]);
        for name in [LS_BO, PAREGO] {
            assert!(build(name, json!(null)).is_ok());
            assert!(build(name, json!({"initial_random": 2, "fit": {"restarts": 1}})).is_ok());
        }
    }
}
