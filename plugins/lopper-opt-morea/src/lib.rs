//! # lopper-opt-morea
//!
//! The `morea` optimizer plugin: multi-objective regularised evolution, the extension of
//! regularised evolution (Real, Aggarwal, Huang and Le, "Regularized Evolution for Image
//! Classifier Architecture Search", AAAI 2019) to several objectives that Klein et al.,
//! "Structural Pruning of Pre-trained Language Models via Neural Architecture Search"
//! (arXiv 2405.02267) compare, with their defaults of a population of 10 and a sample of 5.
//!
//! - The population is a FIFO queue of told individuals; while fewer than `population`
//!   trials have been issued (points suggested with [`Optimizer::suggest`] count) the asks
//!   are uniformly random.
//! - Each later ask samples `sample` distinct members uniformly at random, takes as parent
//!   a uniformly random member of the best non-dominated rank within the sample, and asks
//!   the parent mutated in one uniformly chosen dimension ([`Space::mutate`]).
//! - Each told result joins the back of the queue; when the queue exceeds `population`,
//!   the oldest member is removed (ageing, not fitness, decides who dies).
//!
//! Asks never wait for tells, so any batch size works. Infinite values (diverged
//! evaluations) are stored as `±f64::MAX`.
//!
//! Configuration (all optional, unknown fields are an error):
//!
//! ```json
//! {"population": 10, "sample": 5}
//! ```

use std::collections::VecDeque;

use lopper_core::{
    CoreError, Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result,
    SeededRng, Space, Trial, inventory, seeded_rng,
};
use lopper_pareto::non_dominated_sort;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The name the plugin is registered (and serialised) under.
pub const NAME: &str = "morea";

/// The settings of [`Morea`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MoreaConfig {
    /// Size of the population queue (at least 2; default 10).
    pub population: usize,
    /// Members sampled to choose a parent from (1 to `population`; default 5).
    pub sample: usize,
}

impl Default for MoreaConfig {
    fn default() -> Self {
        Self {
            population: 10,
            sample: 5,
        }
    }
}

impl MoreaConfig {
    /// Checks the ranges of every setting.
    pub fn validate(&self) -> Result<()> {
        let message = if self.population < 2 {
            format!("population must be at least 2, not {}", self.population)
        } else if self.sample == 0 || self.sample > self.population {
            format!(
                "sample must be between 1 and the population ({}), not {}",
                self.population, self.sample
            )
        } else {
            return Ok(());
        };
        Err(CoreError::Config {
            plugin: NAME.into(),
            message,
        })
    }
}

/// An evaluated individual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The point.
    pub point: Point,
    /// Its objective values, infinities clamped to `±f64::MAX`.
    pub values: Vec<f64>,
}

/// Multi-objective regularised evolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Morea {
    rng: SeededRng,
    pending: PendingTrials,
    config: MoreaConfig,
    num_objectives: usize,
    population: VecDeque<Member>,
}

impl Morea {
    /// MO-REA for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: MoreaConfig, num_objectives: usize, seed: u64) -> Result<Self> {
        config.validate()?;
        lopper_core::check_objectives(NAME, num_objectives)?;
        Ok(Self {
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            config,
            num_objectives,
            population: VecDeque::new(),
        })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(spec.parse_config(NAME)?, spec.num_objectives, spec.seed)
    }

    /// The settings.
    pub fn config(&self) -> &MoreaConfig {
        &self.config
    }

    /// The population, oldest first.
    pub fn population(&self) -> impl ExactSizeIterator<Item = &Member> {
        self.population.iter()
    }

    /// A parent: the best non-dominated rank of a random sample, ties broken at random.
    fn parent(&mut self) -> usize {
        let n = self.population.len();
        let k = self.config.sample.min(n);
        // A partial Fisher–Yates shuffle draws k distinct members.
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = self.rng.random_range(i..n);
            idx.swap(i, j);
        }
        idx.truncate(k);
        let values: Vec<&[f64]> = idx
            .iter()
            .map(|&i| self.population[i].values.as_slice())
            .collect();
        let best = &non_dominated_sort(&values).fronts[0];
        idx[best[self.rng.random_range(0..best.len())]]
    }
}

#[typetag::serde(name = "morea")]
impl Optimizer for Morea {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut trials = Vec::with_capacity(n);
        for _ in 0..n {
            let initial = self.pending.issued() < self.config.population as u64;
            let p = if initial || self.population.is_empty() {
                space.sample(&mut self.rng)
            } else {
                let i = self.parent();
                space.mutate(&self.population[i].point, &mut self.rng)
            };
            trials.push(self.pending.issue(p));
        }
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.pending.complete_all(done, self.num_objectives)?;
        for d in done {
            self.population.push_back(Member {
                point: d.trial.point.clone(),
                values: d.storable_values(),
            });
            while self.population.len() > self.config.population {
                self.population.pop_front();
            }
        }
        Ok(())
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.pending.issue(point))
    }
}

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(Morea::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(NAME, "multi-objective regularised evolution, population 10, sample 5 by default", build)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::Dim;
    use lopper_testkit::conformance;
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
        let report = conformance::run_all(NAME, json!({})).unwrap();
        println!("{}", report.unwrap());
    }

    #[test]
    fn conformance_with_other_settings() {
        conformance::run_all_with(NAME, json!({"population": 3, "sample": 3}), None).unwrap();
    }

    #[test]
    fn config_is_validated() {
        let build =
            |c| lopper_core::build_optimizer(NAME, &OptimizerSpec::new(2, 0).with_config(c));
        for bad in [
            json!({"population": 1}),
            json!({"sample": 0}),
            json!({"population": 4, "sample": 5}),
            json!({"samples": 5}),
        ] {
            let err = build(bad.clone()).err().unwrap();
            assert!(matches!(err, CoreError::Config { .. }), "{bad}: {err}");
        }
        assert!(build(json!({"population": 20})).is_ok());
    }

    #[test]
    fn oldest_dies_and_children_are_one_move_from_the_best() {
        let space = Grid(vec![Dim::integer("a", 0, 9), Dim::integer("b", 0, 9)]);
        let config = MoreaConfig {
            population: 3,
            sample: 3,
        };
        let mut ea = Morea::new(config, 2, 0).unwrap();
        let points = (0..4).map(|i| Point(vec![i, i])).collect();
        let trials = ea.suggest(points).unwrap();
        let values = [[5.0, 5.0], [0.0, 0.0], [1.0, 2.0], [2.0, 1.0]];
        let told: Vec<Evaluated> = trials
            .into_iter()
            .zip(values)
            .map(|(t, v)| Evaluated::new(t, v.to_vec()))
            .collect();
        ea.tell(&told).unwrap();
        let kept: Vec<&Point> = ea.population().map(|m| &m.point).collect();
        assert_eq!(
            kept,
            vec![&Point(vec![1, 1]), &Point(vec![2, 2]), &Point(vec![3, 3])]
        );
        // The sample is the whole population, whose only non-dominated member is (1, 1).
        for kid in ea.ask(&space, 20).unwrap() {
            let moved = kid.point.0.iter().filter(|&&v| v != 1).count();
            assert_eq!(moved, 1, "{:?}", kid.point);
        }
    }
}
