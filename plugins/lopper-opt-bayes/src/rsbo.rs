//! The `rs-bo` plugin: random linear scalarisations of per-objective lower confidence bounds
//! (Paria, Kandasamy and Póczos, "A Flexible Framework for Multi-Objective Bayesian
//! Optimization using Random Scalarizations", UAI 2019). Objectives are normalised to
//! `[0, 1]` by their observed minimum and range before they are combined.

use std::collections::HashSet;

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, Point, Result, Space, Trial, inventory,
};
use lopper_gp::{Encoding, Gp};
use serde::{Deserialize, Serialize};

use crate::BoSettings;
use crate::acquisition::lower_confidence_bound;
use crate::config::{config_error, parse_strict};
use crate::driver::{Proposer, ask_with, believe, encoded};
use crate::engine::{Engine, min_and_range, random_simplex};
use crate::scalarised::{incumbents, normalised};
use crate::search::maximise;

/// The name of the random-scalarisation plugin.
pub const RS_BO: &str = "rs-bo";

/// The settings of [`RsBo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RsBoConfig {
    /// Shared settings (given at the top level).
    #[serde(flatten)]
    pub bo: BoSettings,
    /// The exploration weight `κ` of the lower confidence bounds (default 0.5).
    pub kappa: f64,
}

impl Default for RsBoConfig {
    fn default() -> Self {
        Self {
            bo: BoSettings::default(),
            kappa: 0.5,
        }
    }
}

/// Random scalarisations: one Gaussian process per objective; each asked point minimises
/// `Σ_j λ_j LCB_j(x)` of the normalised objectives, with fresh weights `λ` drawn uniformly
/// from the simplex for every point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RsBo {
    config: RsBoConfig,
    engine: Engine,
}

impl RsBo {
    /// RS-BO for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: RsBoConfig, num_objectives: usize, seed: u64) -> Result<Self> {
        let engine = Engine::new(RS_BO, num_objectives, seed)?;
        config.bo.validate(RS_BO)?;
        if !(config.kappa.is_finite() && config.kappa >= 0.0) {
            return Err(config_error(
                RS_BO,
                &format!(
                    "kappa must be finite and non-negative, not {}",
                    config.kappa
                ),
            ));
        }
        Ok(Self { config, engine })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(parse_strict(spec, RS_BO)?, spec.num_objectives, spec.seed)
    }
}

/// One ask of RS-BO: the believed models and the normalisation.
struct RsProposer {
    gps: Vec<Gp>,
    lo: Vec<f64>,
    range: Vec<f64>,
    normalised: Vec<Vec<f64>>,
    kappa: f64,
    settings: BoSettings,
}

impl RsProposer {
    fn build(engine: &mut Engine, encoding: &Encoding, config: &RsBoConfig) -> Result<Self> {
        let m = engine.num_objectives();
        let values = engine.clean_values();
        let (lo, range) = min_and_range(&values, m);
        let (obs_rows, out_rows) = encoded(engine, encoding);
        let mut gps = Vec::with_capacity(m);
        for j in 0..m {
            let y = values.iter().map(|v| v[j]).collect();
            let gp = engine.fit_model(j, encoding, &obs_rows, y, &config.bo, RS_BO)?;
            gps.push(believe(&gp, &out_rows, RS_BO)?.0);
        }
        Ok(Self {
            gps,
            lo,
            range,
            normalised: normalised(engine),
            kappa: config.kappa,
            settings: config.bo.clone(),
        })
    }
}

impl Proposer for RsProposer {
    fn propose(
        &mut self,
        engine: &mut Engine,
        space: &dyn Space,
        encoding: &Encoding,
        taken: &HashSet<Point>,
    ) -> Result<Point> {
        let lambda = random_simplex(&mut engine.rng, self.gps.len());
        let scores: Vec<f64> = self
            .normalised
            .iter()
            .map(|v| v.iter().zip(&lambda).map(|(y, l)| y * l).sum())
            .collect();
        let incumbents = incumbents(engine, &scores);
        let this = &*self;
        let mut acq = |_: &[Point], rows: &[Vec<f64>]| {
            let mut total = vec![0.0; rows.len()];
            for (j, gp) in this.gps.iter().enumerate() {
                for (t, p) in total.iter_mut().zip(gp.predict(rows)) {
                    let lcb = lower_confidence_bound(p.mean, p.sd(), this.kappa);
                    *t -= lambda[j] * (lcb - this.lo[j]) / this.range[j];
                }
            }
            total
        };
        let point = maximise(
            space,
            encoding,
            &mut acq,
            &incumbents,
            taken,
            &self.settings,
            &mut engine.rng,
        );
        let row = [encoding.encode(&point)];
        for gp in &mut self.gps {
            *gp = believe(gp, &row, RS_BO)?.0;
        }
        Ok(point)
    }
}

#[typetag::serde(name = "rs-bo")]
impl Optimizer for RsBo {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut engine = self.engine.clone();
        let trials = ask_with(&mut engine, space, n, &self.config.bo, RS_BO, |e, enc| {
            RsProposer::build(e, enc, &self.config)
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

fn build_rs_bo(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(RsBo::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(RS_BO, "Bayesian optimisation with random linear scalarisations of lower confidence bounds (Paria et al. 2019)", build_rs_bo)
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
    fn conformance_rs_bo() {
        conformance::run_all_with(RS_BO, json!({}), None).unwrap();
    }

    /// Beats random search on ZDT1 without the head start of the corners.
    #[test]
    fn beats_random_without_corners() {
        let report = conformance::quality(RS_BO, json!({"initial_corners": false}), 60).unwrap();
        println!("{report}");
    }

    #[test]
    fn config_is_validated() {
        let build = |c| build_optimizer(RS_BO, &OptimizerSpec::new(2, 0).with_config(c));
        for bad in [
            json!({"kappa": -0.1}),
            json!({"kappa": "half"}),
            json!({"weights": [1.0, 1.0]}),
        ] {
            let err = build(bad.clone()).err().unwrap();
            assert!(matches!(err, CoreError::Config { .. }), "{bad}: {err}");
        }
        assert!(build(json!({"kappa": 0.0})).is_ok());
        assert!(build(json!(null)).is_ok());
    }
}
