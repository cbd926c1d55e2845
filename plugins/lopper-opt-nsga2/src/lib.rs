//! # lopper-opt-nsga2
//!
//! The `nsga2` optimizer plugin: NSGA-II (Deb, Pratap, Agarwal and Meyarivan, "A Fast and
//! Elitist Multiobjective Genetic Algorithm: NSGA-II", IEEE TEC 6(2), 2002) on discrete
//! spaces, one of the baselines of Klein et al., "Structural Pruning of Pre-trained
//! Language Models via Neural Architecture Search" (arXiv 2405.02267), with their default
//! population of 10.
//!
//! - The first population is uniformly random (points suggested with
//!   [`Optimizer::suggest`] take the place of random ones).
//! - Each later ask returns offspring of the current population: two parents by binary
//!   tournament on (non-dominated rank, crowding distance), uniform crossover with
//!   probability `crossover_prob` (otherwise a copy of the first parent), then each
//!   dimension reset with probability `mutation_prob` (default `1 / #dims`) to a different
//!   value of its domain ([`Domain::sample_other`](lopper_core::Domain::sample_other), fit
//!   to integer, ordinal, categorical and binary dimensions alike). A child equal to one of
//!   its parents gets one more mutation ([`Space::mutate`]) so that no evaluation is spent on
//!   a copy.
//! - Told results join the population until it is full, then collect as offspring; once
//!   `population` offspring have arrived, environmental selection keeps the best
//!   `population` of parents ∪ offspring by non-dominated sorting and, in the last front
//!   that fits partly, by crowding distance.
//!
//! Asks never wait for tells, so any batch size works and results may arrive late and in
//! any order (asynchronous NSGA-II): offspring are bred from whatever the population is at
//! the time of the ask. Infinite values (diverged evaluations) are stored as `±f64::MAX`.
//!
//! Configuration (all optional, unknown fields are an error):
//!
//! ```json
//! {"population": 10, "crossover_prob": 0.9, "mutation_prob": null}
//! ```

use lopper_core::{
    CoreError, Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result,
    SeededRng, Space, Trial, inventory, seeded_rng,
};
use lopper_pareto::{crowding_distance, non_dominated_sort};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The name the plugin is registered (and serialised) under.
pub const NAME: &str = "nsga2";

/// The settings of [`Nsga2`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nsga2Config {
    /// Population size (at least 2; default 10).
    pub population: usize,
    /// Probability of uniform crossover for each child (default 0.9).
    pub crossover_prob: f64,
    /// Per-dimension probability of a random reset; `None` (default) means `1 / #dims`.
    pub mutation_prob: Option<f64>,
}

impl Default for Nsga2Config {
    fn default() -> Self {
        Self {
            population: 10,
            crossover_prob: 0.9,
            mutation_prob: None,
        }
    }
}

impl Nsga2Config {
    /// Checks the ranges of every setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| {
            Err(CoreError::Config {
                plugin: NAME.into(),
                message,
            })
        };
        let probability = |p: f64| (0.0..=1.0).contains(&p);
        if self.population < 2 {
            return bad(format!(
                "population must be at least 2, not {}",
                self.population
            ));
        }
        if !probability(self.crossover_prob) {
            return bad(format!(
                "crossover_prob must be in [0, 1], not {}",
                self.crossover_prob
            ));
        }
        if let Some(p) = self.mutation_prob.filter(|p| !probability(*p)) {
            return bad(format!("mutation_prob must be in [0, 1], not {p}"));
        }
        Ok(())
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

/// NSGA-II with asynchronous, any-size asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nsga2 {
    rng: SeededRng,
    pending: PendingTrials,
    config: Nsga2Config,
    num_objectives: usize,
    population: Vec<Member>,
    offspring: Vec<Member>,
    generation: u64,
}

impl Nsga2 {
    /// NSGA-II for `num_objectives ≥ 1` objectives, seeded with `seed`.
    pub fn new(config: Nsga2Config, num_objectives: usize, seed: u64) -> Result<Self> {
        config.validate()?;
        lopper_core::check_objectives(NAME, num_objectives)?;
        Ok(Self {
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            config,
            num_objectives,
            population: Vec::new(),
            offspring: Vec::new(),
            generation: 0,
        })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        Self::new(spec.parse_config(NAME)?, spec.num_objectives, spec.seed)
    }

    /// The settings.
    pub fn config(&self) -> &Nsga2Config {
        &self.config
    }

    /// The current population (parents of the next asks).
    pub fn population(&self) -> &[Member] {
        &self.population
    }

    /// Environmental selections done so far.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Non-dominated rank and crowding distance of each population member.
    fn rank_and_crowding(members: &[Member]) -> (Vec<usize>, Vec<f64>) {
        let values: Vec<&[f64]> = members.iter().map(|m| m.values.as_slice()).collect();
        let fronts = non_dominated_sort(&values);
        let mut crowding = vec![0.0; members.len()];
        for front in &fronts.fronts {
            for (&i, d) in front.iter().zip(crowding_distance(&values, front)) {
                crowding[i] = d;
            }
        }
        (fronts.rank, crowding)
    }

    /// Binary tournament: the lower rank wins, then the larger crowding distance, then a
    /// coin flip.
    fn tournament(&mut self, rank: &[usize], crowding: &[f64]) -> usize {
        let n = rank.len();
        let a = self.rng.random_range(0..n);
        let b = if n > 1 {
            (a + self.rng.random_range(1..n)) % n
        } else {
            a
        };
        match rank[a]
            .cmp(&rank[b])
            .then(crowding[b].total_cmp(&crowding[a]))
        {
            std::cmp::Ordering::Less => a,
            std::cmp::Ordering::Greater => b,
            std::cmp::Ordering::Equal => {
                if self.rng.random_bool(0.5) {
                    a
                } else {
                    b
                }
            }
        }
    }

    /// One child of the current population.
    fn breed(&mut self, space: &dyn Space, rank: &[usize], crowding: &[f64]) -> Point {
        let (a, b) = (
            self.tournament(rank, crowding),
            self.tournament(rank, crowding),
        );
        let p1 = self.population[a].point.clone();
        let p2 = self.population[b].point.clone();
        let mut child = if self.rng.random_bool(self.config.crossover_prob) {
            let genes = p1.0.iter().zip(&p2.0);
            Point(
                genes
                    .map(|(&a, &b)| if self.rng.random_bool(0.5) { a } else { b })
                    .collect(),
            )
        } else {
            p1.clone()
        };
        let dims = space.dims();
        let pm = self
            .config
            .mutation_prob
            .unwrap_or(1.0 / dims.len().max(1) as f64);
        for (v, dim) in child.0.iter_mut().zip(dims) {
            if self.rng.random_bool(pm) {
                *v = dim.domain.sample_other(*v, &mut self.rng);
            }
        }
        if child == p1 || child == p2 {
            child = space.mutate(&child, &mut self.rng);
        }
        child
    }

    /// Keeps the best `population` of parents ∪ offspring (Deb et al.'s crowded-comparison
    /// selection) and starts a new generation.
    fn select(&mut self) {
        let mut all = std::mem::take(&mut self.population);
        all.append(&mut self.offspring);
        let values: Vec<&[f64]> = all.iter().map(|m| m.values.as_slice()).collect();
        let size = self.config.population;
        let mut keep: Vec<usize> = Vec::with_capacity(size);
        for front in non_dominated_sort(&values).fronts {
            if keep.len() + front.len() <= size {
                keep.extend(&front);
                continue;
            }
            let crowding = crowding_distance(&values, &front);
            let mut order: Vec<usize> = (0..front.len()).collect();
            order.sort_by(|&a, &b| crowding[b].total_cmp(&crowding[a]));
            keep.extend(order.iter().take(size - keep.len()).map(|&k| front[k]));
            break;
        }
        keep.sort_unstable();
        let mut slots: Vec<Option<Member>> = all.into_iter().map(Some).collect();
        self.population = keep.iter().filter_map(|&i| slots[i].take()).collect();
        self.generation += 1;
    }
}

#[typetag::serde(name = "nsga2")]
impl Optimizer for Nsga2 {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let (rank, crowding) = Self::rank_and_crowding(&self.population);
        let mut trials = Vec::with_capacity(n);
        for _ in 0..n {
            let initial = self.pending.issued() < self.config.population as u64;
            let p = if initial || self.population.is_empty() {
                space.sample(&mut self.rng)
            } else {
                self.breed(space, &rank, &crowding)
            };
            trials.push(self.pending.issue(p));
        }
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.pending.complete_all(done, self.num_objectives)?;
        for d in done {
            let member = Member {
                point: d.trial.point.clone(),
                values: d.storable_values(),
            };
            if self.population.len() < self.config.population {
                self.population.push(member);
            } else {
                self.offspring.push(member);
                if self.offspring.len() >= self.config.population {
                    self.select();
                }
            }
        }
        Ok(())
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.pending.issue(point))
    }
}

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(Nsga2::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(NAME, "NSGA-II (Deb et al. 2002), asynchronous, population 10 by default", build)
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
        let config = json!({"population": 4, "crossover_prob": 0.5, "mutation_prob": 0.2});
        conformance::run_all_with(NAME, config, None).unwrap();
    }

    #[test]
    fn config_is_validated() {
        let build =
            |c| lopper_core::build_optimizer(NAME, &OptimizerSpec::new(2, 0).with_config(c));
        for bad in [
            json!({"population": 1}),
            json!({"crossover_prob": 1.5}),
            json!({"mutation_prob": -0.1}),
            json!({"populaton": 10}),
            json!({"population": "ten"}),
        ] {
            let err = build(bad.clone()).err().unwrap();
            assert!(matches!(err, CoreError::Config { .. }), "{bad}: {err}");
        }
        assert!(build(json!({"population": 2})).is_ok());
        assert!(build(json!(null)).is_ok());
    }

    #[test]
    fn selection_keeps_the_best_fronts() {
        let space = Grid(vec![Dim::integer("a", 0, 99)]);
        let config = Nsga2Config {
            population: 3,
            ..Default::default()
        };
        let mut ga = Nsga2::new(config, 2, 0).unwrap();
        let first = ga.ask(&space, 3).unwrap();
        assert!(ga.population().is_empty());
        let values = [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]];
        let told: Vec<Evaluated> = first
            .into_iter()
            .zip(values)
            .map(|(t, v)| Evaluated::new(t, v.to_vec()))
            .collect();
        ga.tell(&told).unwrap();
        assert_eq!(ga.population().len(), 3);
        // Offspring: a front of three that beats every parent, one of them infinite.
        let kids = ga.ask(&space, 3).unwrap();
        let values = [[0.0, 2.0], [1.0, 1.0], [2.0, f64::INFINITY]];
        let told: Vec<Evaluated> = kids
            .into_iter()
            .zip(values)
            .map(|(t, v)| Evaluated::new(t, v.to_vec()))
            .collect();
        ga.tell(&told).unwrap();
        assert_eq!(ga.generation(), 1);
        let mut kept: Vec<Vec<f64>> = ga.population().iter().map(|m| m.values.clone()).collect();
        kept.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert_eq!(kept, vec![vec![0.0, 2.0], vec![1.0, 1.0], vec![3.0, 3.0]]);
    }

    #[test]
    fn children_differ_from_their_parents() {
        let space = Grid(vec![
            Dim::binary("a"),
            Dim::binary("b"),
            Dim::integer("c", 0, 2),
        ]);
        let config = Nsga2Config {
            population: 2,
            mutation_prob: Some(0.0),
            ..Default::default()
        };
        let mut ga = Nsga2::new(config, 1, 4).unwrap();
        let parents = ga
            .suggest(vec![Point(vec![0, 1, 2]), Point(vec![1, 1, 0])])
            .unwrap();
        let told: Vec<Evaluated> = parents
            .iter()
            .zip([1.0, 2.0])
            .map(|(t, v)| Evaluated::new(t.clone(), vec![v]))
            .collect();
        ga.tell(&told).unwrap();
        // The first parent wins every tournament; without mutation its children would be
        // copies of it.
        for kid in ga.ask(&space, 30).unwrap() {
            assert_ne!(kid.point, parents[0].point);
        }
    }
}
