//! The `ehvi` plugin: expected hypervolume improvement on independent Gaussian processes,
//! one per objective (Emmerich, Giannakoglou and Naujoks, "Single- and multiobjective
//! evolutionary optimization assisted by Gaussian random field metamodels", IEEE TEC 10(4),
//! 2006; exact in two objectives after Yang et al. 2019 and Couckuyt et al. 2014, see
//! [`crate::acquisition`]).

use std::collections::HashSet;

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, Point, Result, Space, Trial, inventory,
};
use lopper_gp::{Encoding, Gp};
use lopper_pareto::non_dominated;
use serde::{Deserialize, Serialize};

use crate::BoSettings;
use crate::acquisition::{
    BoxDecomposition, ehvi_2d, ehvi_monte_carlo, expected_shortfall, improvement_front,
};
use crate::config::{config_error, parse_strict};
use crate::driver::{Proposer, ask_with, believe, encoded};
use crate::engine::{Engine, min_and_range, standard_normal};
use crate::search::maximise;

/// The name the plugin is registered (and serialised) under.
pub const NAME: &str = "ehvi";

/// An objective known in closed form, `intercept + Σ weights[d] · coordinate[d]` (such as
/// the parameter count, which is linear in the numbers of heads and units a point keeps):
/// computed exactly instead of being modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassThrough {
    /// Index of the objective (in the search's order, minimisation orientation).
    pub objective: usize,
    /// Constant term.
    #[serde(default)]
    pub intercept: f64,
    /// One weight per dimension of the space, applied to the raw coordinates.
    pub weights: Vec<f64>,
}

impl PassThrough {
    /// The objective's value at `p`.
    pub fn value(&self, p: &Point) -> f64 {
        self.intercept
            + self
                .weights
                .iter()
                .zip(p.coords())
                .map(|(w, &c)| w * c as f64)
                .sum::<f64>()
    }
}

/// How the expected hypervolume improvement is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Estimator {
    /// Exact for one and two objectives, Monte-Carlo for three or more (the default).
    #[default]
    Auto,
    /// Exact in any number of objectives, on the box decomposition (about `k^(m−1)` boxes
    /// for a front of `k` points: fine in three objectives, slow beyond).
    Exact,
    /// Monte-Carlo with `mc_samples` common random numbers, in any number of objectives.
    MonteCarlo,
}

/// The settings of [`Ehvi`]: the shared [`BoSettings`] plus these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EhviConfig {
    /// Shared settings (given at the top level).
    #[serde(flatten)]
    pub bo: BoSettings,
    /// The reference point, in objective units (minimised). `null` (default): the nadir of
    /// the observed Pareto front plus `reference_margin` times each objective's observed
    /// range, recomputed at every ask.
    pub reference_point: Option<Vec<f64>>,
    /// The margin of the default reference point, as a fraction of each objective's
    /// observed range (default 0.1).
    pub reference_margin: f64,
    /// How EHVI is computed (`auto`, `exact` or `monte_carlo`; default `auto`: exact for
    /// two objectives, Monte-Carlo for three or more).
    pub estimator: Estimator,
    /// Monte-Carlo samples per candidate (default 128).
    pub mc_samples: usize,
    /// Objectives computed in closed form instead of modelled.
    pub pass_through: Vec<PassThrough>,
}

impl Default for EhviConfig {
    fn default() -> Self {
        Self {
            bo: BoSettings::default(),
            reference_point: None,
            reference_margin: 0.1,
            estimator: Estimator::Auto,
            mc_samples: 128,
            pass_through: Vec::new(),
        }
    }
}

impl EhviConfig {
    /// Checks the ranges for `objectives` objectives.
    pub fn validate(&self, objectives: usize) -> Result<()> {
        self.bo.validate(NAME)?;
        let bad = |m: String| Err(config_error(NAME, &m));
        if let Some(r) = &self.reference_point
            && (r.len() != objectives || r.iter().any(|v| !v.is_finite()))
        {
            return bad(format!(
                "reference_point must hold {objectives} finite values, not {r:?}"
            ));
        }
        if !(self.reference_margin.is_finite() && self.reference_margin > 0.0) {
            return bad(format!(
                "reference_margin must be positive, not {}",
                self.reference_margin
            ));
        }
        if self.mc_samples == 0 {
            return bad("mc_samples must be at least 1".into());
        }
        let mut seen = HashSet::new();
        for p in &self.pass_through {
            if p.objective >= objectives || !seen.insert(p.objective) {
                return bad(format!(
                    "pass_through objective {} is out of range or repeated",
                    p.objective
                ));
            }
            if p.weights
                .iter()
                .chain([&p.intercept])
                .any(|v| !v.is_finite())
            {
                return bad("pass_through weights must be finite".into());
            }
        }
        if seen.len() == objectives {
            return bad("at least one objective must be modelled".into());
        }
        Ok(())
    }
}

/// Expected hypervolume improvement with independent Gaussian processes per objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ehvi {
    config: EhviConfig,
    engine: Engine,
}

impl Ehvi {
    /// EHVI for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: EhviConfig, num_objectives: usize, seed: u64) -> Result<Self> {
        let engine = Engine::new(NAME, num_objectives, seed)?;
        config.validate(num_objectives)?;
        Ok(Self { config, engine })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(parse_strict(spec, NAME)?, spec.num_objectives, spec.seed)
    }

    /// The settings.
    pub fn config(&self) -> &EhviConfig {
        &self.config
    }

    /// The reference point the next ask would use (`None` before any evaluation).
    pub fn reference_point(&self) -> Option<Vec<f64>> {
        if let Some(r) = &self.config.reference_point {
            return Some(r.clone());
        }
        let values = self.engine.clean_values();
        if values.is_empty() {
            return None;
        }
        let m = self.engine.num_objectives();
        let (_, range) = min_and_range(&values, m);
        let front = non_dominated(&values);
        Some(
            (0..m)
                .map(|j| {
                    let nadir = front
                        .iter()
                        .map(|&i| values[i][j])
                        .fold(f64::NEG_INFINITY, f64::max);
                    nadir + self.config.reference_margin * range[j]
                })
                .collect(),
        )
    }

    /// The warm-start length-scales of each objective's model (`None` for objectives not
    /// fitted yet or passed through).
    pub fn lengthscales(&self) -> Vec<Option<Vec<f64>>> {
        (0..self.engine.num_objectives())
            .map(|j| {
                self.engine
                    .hypers()
                    .get(j)
                    .cloned()
                    .flatten()
                    .map(|h| h.lengthscales())
            })
            .collect()
    }

    fn build(&self, engine: &mut Engine, encoding: &Encoding) -> Result<EhviProposer> {
        let m = engine.num_objectives();
        let values = engine.clean_values();
        let (obs_rows, out_rows) = encoded(engine, encoding);
        let reference = self.reference_point().unwrap_or_else(|| vec![1.0; m]);
        let mut pass: Vec<Option<PassThrough>> = vec![None; m];
        for p in &self.config.pass_through {
            pass[p.objective] = Some(p.clone());
        }
        let mut models = Vec::with_capacity(m);
        for (j, pass) in pass.iter().enumerate() {
            models.push(match pass {
                Some(_) => None,
                None => {
                    let y = values.iter().map(|v| v[j]).collect();
                    Some(engine.fit_model(j, encoding, &obs_rows, y, &self.config.bo, NAME)?)
                }
            });
        }
        let monte_carlo = match self.config.estimator {
            Estimator::Auto => m >= 3,
            Estimator::Exact => false,
            Estimator::MonteCarlo => true,
        };
        let draws = if !monte_carlo {
            Vec::new()
        } else {
            (0..self.config.mc_samples)
                .map(|_| (0..m).map(|_| standard_normal(&mut engine.rng)).collect())
                .collect()
        };
        let mut proposer = EhviProposer {
            models,
            pass,
            points: values,
            front: Vec::new(),
            boxes: BoxDecomposition::new(&[], &reference),
            reference,
            draws,
            settings: self.config.bo.clone(),
        };
        let out_points: Vec<Point> = engine
            .outstanding()
            .iter()
            .map(|t| t.point.clone())
            .collect();
        proposer.believe(&out_points, &out_rows)?;
        Ok(proposer)
    }
}

/// One ask's models, front and reference point.
struct EhviProposer {
    models: Vec<Option<Gp>>,
    pass: Vec<Option<PassThrough>>,
    /// Observed and believed objective vectors.
    points: Vec<Vec<f64>>,
    front: Vec<Vec<f64>>,
    boxes: BoxDecomposition,
    reference: Vec<f64>,
    /// Standard-normal draws of the Monte-Carlo estimate (empty: exact).
    draws: Vec<Vec<f64>>,
    settings: BoSettings,
}

impl EhviProposer {
    /// Posterior means and standard deviations of every objective at each point.
    fn predict(&self, points: &[Point], rows: &[Vec<f64>]) -> Vec<(Vec<f64>, Vec<f64>)> {
        let m = self.models.len();
        let mut out = vec![(vec![0.0; m], vec![0.0; m]); points.len()];
        for j in 0..m {
            match (&self.models[j], &self.pass[j]) {
                (Some(gp), _) => {
                    for (o, p) in out.iter_mut().zip(gp.predict(rows)) {
                        o.0[j] = p.mean;
                        o.1[j] = p.sd();
                    }
                }
                (None, Some(pass)) => {
                    for (o, p) in out.iter_mut().zip(points) {
                        o.0[j] = pass.value(p);
                    }
                }
                (None, None) => {}
            }
        }
        out
    }

    fn acquisition(&self, points: &[Point], rows: &[Vec<f64>]) -> Vec<f64> {
        let (front, r, boxes) = (&self.front, &self.reference, &self.boxes);
        self.predict(points, rows)
            .iter()
            .map(|(mean, sd)| {
                if !self.draws.is_empty() {
                    return ehvi_monte_carlo(boxes, front, mean, sd, &self.draws);
                }
                match mean.len() {
                    1 => {
                        let best = front.first().map_or(r[0], |p| p[0]);
                        expected_shortfall(best, mean[0], sd[0])
                    }
                    2 => ehvi_2d(front, r, mean, sd),
                    _ => boxes.ehvi(mean, sd),
                }
            })
            .collect()
    }

    /// Kriging believer: the models and the front take the predicted means at `points`.
    fn believe(&mut self, points: &[Point], rows: &[Vec<f64>]) -> Result<()> {
        let predicted = self.predict(points, rows);
        for model in self.models.iter_mut().flatten() {
            *model = believe(model, rows, NAME)?.0;
        }
        self.points
            .extend(predicted.into_iter().map(|(mean, _)| mean));
        self.front = improvement_front(&self.points, &self.reference);
        self.boxes = BoxDecomposition::new(&self.front, &self.reference);
        Ok(())
    }
}

impl Proposer for EhviProposer {
    fn propose(
        &mut self,
        engine: &mut Engine,
        space: &dyn Space,
        encoding: &Encoding,
        taken: &HashSet<Point>,
    ) -> Result<Point> {
        let incumbents = engine.front_points(8);
        let settings = self.settings.clone();
        let mut acq = |p: &[Point], r: &[Vec<f64>]| self.acquisition(p, r);
        let point = maximise(
            space,
            encoding,
            &mut acq,
            &incumbents,
            taken,
            &settings,
            &mut engine.rng,
        );
        self.believe(std::slice::from_ref(&point), &[encoding.encode(&point)])?;
        Ok(point)
    }
}

#[typetag::serde(name = "ehvi")]
impl Optimizer for Ehvi {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut engine = self.engine.clone();
        for p in &self.config.pass_through {
            if p.weights.len() != space.dims().len() {
                return Err(config_error(
                    NAME,
                    &format!(
                        "pass_through objective {} has {} weights for a space of {} dimensions",
                        p.objective,
                        p.weights.len(),
                        space.dims().len()
                    ),
                ));
            }
        }
        let trials = ask_with(&mut engine, space, n, &self.config.bo, NAME, |e, enc| {
            self.build(e, enc)
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

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(Ehvi::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(
        NAME,
        "expected hypervolume improvement on Gaussian processes (exact in 2-D, Monte-Carlo beyond)",
        build,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::{CoreError, Dim, build_optimizer, load_optimizer, save_optimizer};
    use lopper_testkit::{Problem, Zdt, ZdtKind, conformance, drive, problem_by_name};
    use serde_json::json;

    // Link the baseline of the quality check.
    use lopper_opt_random as _;

    struct Grid(Vec<Dim>);
    impl Space for Grid {
        fn dims(&self) -> &[Dim] {
            &self.0
        }
    }

    #[test]
    fn conformance_suite() {
        conformance::run_all_with(NAME, json!({}), None).unwrap();
    }

    /// Beats random search on ZDT1 without the head start of the corners (the lower bound of
    /// ZDT1 is Pareto-optimal): the model does the work.
    #[test]
    fn beats_random_without_corners() {
        let report = conformance::quality(NAME, json!({"initial_corners": false}), 60).unwrap();
        println!("{report}");
        assert!(report.regrets.iter().all(|r| *r < 0.5), "{report}");
    }

    #[test]
    fn config_is_validated() {
        let build = |c| build_optimizer(NAME, &OptimizerSpec::new(2, 0).with_config(c));
        for bad in [
            json!({"reference_point": [1.0]}),
            json!({"reference_margin": 0.0}),
            json!({"mc_samples": 0}),
            json!({"candidates": 0}),
            json!({"estimator": "guess"}),
            json!({"pass_through": [{"objective": 2, "weights": []}]}),
            json!({"pass_through": [{"objective": 0, "weights": []}, {"objective": 1, "weights": []}]}),
            json!({"fit": {"max_iters": 0}}),
            json!({"fit": {"bounds": {"lengthscale": [1.0, 0.5]}}}),
            json!({"refrence_point": [1.0, 1.0]}),
        ] {
            let err = build(bad.clone()).err().unwrap();
            assert!(matches!(err, CoreError::Config { .. }), "{bad}: {err}");
        }
        let err = build(json!({"candidatez": 3})).err().unwrap().to_string();
        assert!(
            err.contains("candidatez") && err.contains("candidates"),
            "{err}"
        );
        assert!(build(json!({"reference_point": [1.1, 1.1], "estimator": "exact"})).is_ok());
        assert!(build(json!(null)).is_ok());
    }

    #[test]
    fn large_spaces_are_refused_by_name() {
        let space = Grid((0..300).map(|i| Dim::binary(format!("unit{i}"))).collect());
        let mut opt = build_optimizer(NAME, &OptimizerSpec::new(2, 0)).unwrap();
        let before = save_optimizer(opt.as_ref()).unwrap();
        let err = opt.ask(&space, 1).err().unwrap();
        let msg = err.to_string();
        assert!(matches!(err, CoreError::Unsupported(_)), "{msg}");
        for alternative in ["local-search", "nsga2", "morea", "random", "300"] {
            assert!(msg.contains(alternative), "{msg}");
        }
        assert_eq!(save_optimizer(opt.as_ref()).unwrap(), before);
        // Raising the limit lets it through.
        let spec = OptimizerSpec::new(2, 0).with_config(json!({"max_dims": 300}));
        assert!(build_optimizer(NAME, &spec).unwrap().ask(&space, 1).is_ok());
    }

    #[test]
    fn initial_design_then_model() {
        let problem = Zdt::with_size(ZdtKind::Zdt1, 4, 20).unwrap();
        let mut opt = Ehvi::new(EhviConfig::default(), 2, 0).unwrap();
        // The runner suggests the lower bound; the plugin asks the other corners itself.
        let suggested = opt.suggest(vec![problem.lower_bound()]).unwrap();
        let asked = opt.ask(&problem, 2).unwrap();
        assert_eq!(asked[0].point, problem.upper_bound());
        assert_eq!(asked[1].point, problem.mid_point());
        assert!(opt.reference_point().is_none());
        let mut all = suggested;
        all.extend(asked);
        all.extend(opt.ask(&problem, 5).unwrap());
        let done: Vec<Evaluated> = all
            .iter()
            .map(|t| Evaluated::new(t.clone(), problem.evaluate(&t.point)))
            .collect();
        opt.tell(&done).unwrap();
        assert!(opt.lengthscales().iter().all(Option::is_none));
        // Reference: the observed front's nadir plus a tenth of each observed range.
        let values: Vec<Vec<f64>> = done.iter().map(|d| d.values.clone()).collect();
        let front = lopper_pareto::non_dominated(&values);
        let reference = opt.reference_point().unwrap();
        for j in 0..2 {
            let col = values.iter().map(|v| v[j]);
            let range = col.clone().fold(f64::MIN, f64::max) - col.fold(f64::MAX, f64::min);
            let nadir = front.iter().map(|&i| values[i][j]).fold(f64::MIN, f64::max);
            assert!((reference[j] - (nadir + 0.1 * range)).abs() < 1e-12);
        }
        // The design is over: the next asks are model-based, new, and fit one model per
        // objective; a batch holds distinct points.
        let batch = opt.ask(&problem, 4).unwrap();
        let mut seen: HashSet<Point> = all.iter().map(|t| t.point.clone()).collect();
        for t in &batch {
            assert!(seen.insert(t.point.clone()), "{:?} asked twice", t.point);
        }
        assert!(
            opt.lengthscales()
                .iter()
                .all(|l| l.as_ref().is_some_and(|l| l.len() == 4))
        );
    }

    #[test]
    fn resumes_from_a_checkpoint_with_batches_and_pending_trials() {
        let problem = problem_by_name("dtlz2-3").unwrap();
        let spec = OptimizerSpec::new(3, 9).with_config(json!({"candidates": 100}));
        let mut a = build_optimizer(NAME, &spec).unwrap();
        drive(a.as_mut(), problem.as_ref(), 15, 3).unwrap();
        let pending = a.ask(problem.as_ref(), 2).unwrap();
        let text = serde_json::to_string(&save_optimizer(a.as_ref()).unwrap()).unwrap();
        let mut b = load_optimizer(serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(
            a.ask(problem.as_ref(), 3).unwrap(),
            b.ask(problem.as_ref(), 3).unwrap()
        );
        let done: Vec<Evaluated> = pending
            .iter()
            .map(|t| Evaluated::new(t.clone(), problem.evaluate(&t.point)))
            .collect();
        a.tell(&done).unwrap();
        b.tell(&done).unwrap();
        assert_eq!(
            a.ask(problem.as_ref(), 1).unwrap(),
            b.ask(problem.as_ref(), 1).unwrap()
        );
    }

    /// In three objectives, with the problem's reference point given (the default one, from
    /// the observed front, sits far out on DTLZ2, whose corners of the cube are extreme
    /// non-dominated points, and sends the search to the edges of the front first).
    #[test]
    fn exact_and_monte_carlo_in_three_objectives() {
        let problem = problem_by_name("dtlz2-3").unwrap();
        for estimator in ["exact", "monte_carlo"] {
            let config = json!({"estimator": estimator, "mc_samples": 32, "candidates": 200,
                "reference_point": problem.reference_point()});
            let spec = OptimizerSpec::new(3, 1).with_config(config);
            let mut opt = build_optimizer(NAME, &spec).unwrap();
            let trace = drive(opt.as_mut(), problem.as_ref(), 40, 1).unwrap();
            // Better than the initial design alone.
            let initial = problem.hv_regret(&trace.values()[..8]).unwrap();
            assert!(trace.final_regret() < initial, "{estimator}");
        }
    }

    /// The parameter count of a pruned network is known in closed form: passed through, it
    /// is computed, not modelled.
    #[test]
    fn pass_through_objective() {
        let problem = Zdt::with_size(ZdtKind::Zdt1, 5, 100).unwrap();
        let pass = PassThrough {
            objective: 0,
            intercept: 0.0,
            weights: vec![0.01, 0.0, 0.0, 0.0, 0.0],
        };
        let x = problem.mid_point();
        assert_eq!(pass.value(&x), problem.evaluate(&x)[0]);
        let config = EhviConfig {
            pass_through: vec![pass.clone()],
            ..EhviConfig::default()
        };
        let mut opt = Ehvi::new(config, 2, 3).unwrap();
        let trace = drive(&mut opt, &problem, 40, 1).unwrap();
        assert!(trace.final_regret() < 0.1, "{}", trace.final_regret());
        let ls = opt.lengthscales();
        assert!(ls[0].is_none() && ls[1].is_some(), "{ls:?}");
        // Weights must match the space.
        let wrong = EhviConfig {
            pass_through: vec![PassThrough {
                weights: vec![1.0],
                ..pass
            }],
            ..EhviConfig::default()
        };
        let err = Ehvi::new(wrong, 2, 0)
            .unwrap()
            .ask(&problem, 1)
            .err()
            .unwrap();
        assert!(err.to_string().contains("1 weights"), "{err}");
    }
}
