//! # lopper-opt-local-search
//!
//! The `local-search` optimizer plugin: the multi-objective local search of Klein et al.,
//! "Structural Pruning of Pre-trained Language Models via Neural Architecture Search"
//! (arXiv 2405.02267), which the paper finds competitive with evolutionary and model-based
//! methods for pruning.
//!
//! It keeps an archive of the non-dominated points among everything it was told. Each ask
//! picks a uniformly random member of that Pareto set and changes one uniformly chosen
//! dimension to a different value ([`Space::mutate`]). Until the first result arrives it asks
//! uniformly random points; every told point — its own, or one the runner evaluated first
//! (an initial design issued with [`Optimizer::suggest`]) — competes for the archive, so the
//! search can start from the largest network, a grid, or anything else.
//!
//! A told point whose values equal an archive member's replaces that member (so the search
//! drifts across plateaus without growing the archive). Infinite values (diverged
//! evaluations) are stored as `±f64::MAX`, so that checkpoints stay valid JSON.
//!
//! Configuration: none; `null` or `{}` (unknown fields are an error).

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result, SeededRng,
    Space, Trial, inventory, seeded_rng,
};
use lopper_pareto::dominates;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The name the plugin is registered (and serialised) under.
pub const NAME: &str = "local-search";

/// The configuration: there is nothing to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSearchConfig {}

/// A member of the archive: a told point and its (minimised) objective values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The point.
    pub point: Point,
    /// Its objective values, infinities clamped to `±f64::MAX`.
    pub values: Vec<f64>,
}

/// Multi-objective local search over a non-dominated archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalSearch {
    rng: SeededRng,
    pending: PendingTrials,
    num_objectives: usize,
    archive: Vec<Member>,
}

impl LocalSearch {
    /// A search for `num_objectives ≥ 1` objectives seeded with `seed`.
    pub fn new(num_objectives: usize, seed: u64) -> Result<Self> {
        lopper_core::check_objectives(NAME, num_objectives)?;
        Ok(Self {
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            num_objectives,
            archive: Vec::new(),
        })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        let LocalSearchConfig {} = spec.parse_config(NAME)?;
        Self::new(spec.num_objectives, spec.seed)
    }

    /// The current Pareto set: the non-dominated told points, in order of arrival.
    pub fn archive(&self) -> &[Member] {
        &self.archive
    }

    /// Offers a told point to the archive.
    fn insert(&mut self, point: Point, values: Vec<f64>) {
        if self.archive.iter().any(|m| dominates(&m.values, &values)) {
            return;
        }
        if let Some(m) = self.archive.iter_mut().find(|m| m.values == values) {
            m.point = point;
            return;
        }
        self.archive.retain(|m| !dominates(&values, &m.values));
        self.archive.push(Member { point, values });
    }
}

#[typetag::serde(name = "local-search")]
impl Optimizer for LocalSearch {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut trials = Vec::with_capacity(n);
        for _ in 0..n {
            let p = if self.archive.is_empty() {
                space.sample(&mut self.rng)
            } else {
                let i = self.rng.random_range(0..self.archive.len());
                space.mutate(&self.archive[i].point, &mut self.rng)
            };
            trials.push(self.pending.issue(p));
        }
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.pending.complete_all(done, self.num_objectives)?;
        for d in done {
            let values = d.storable_values();
            self.insert(d.trial.point.clone(), values);
        }
        Ok(())
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.pending.issue(point))
    }
}

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(LocalSearch::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(NAME, "multi-objective local search around the Pareto set (Klein et al. 2024)", build)
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
    fn config_is_validated() {
        let spec = OptimizerSpec::new(2, 0).with_config(json!({"population": 3}));
        let err = lopper_core::build_optimizer(NAME, &spec).err().unwrap();
        assert!(
            matches!(err, lopper_core::CoreError::Config { .. }),
            "{err}"
        );
    }

    #[test]
    fn archive_keeps_the_pareto_set_and_asks_neighbours() {
        let space = Grid(vec![Dim::integer("a", 0, 9), Dim::integer("b", 0, 9)]);
        let mut ls = LocalSearch::new(2, 1).unwrap();
        let trials = ls
            .suggest(vec![Point(vec![1, 1]), Point(vec![5, 5])])
            .unwrap();
        let told: Vec<Evaluated> = trials
            .into_iter()
            .zip([vec![1.0, 1.0], vec![2.0, f64::INFINITY]])
            .map(|(t, v)| Evaluated::new(t, v))
            .collect();
        ls.tell(&told).unwrap();
        assert_eq!(ls.archive().len(), 1, "the dominated point stays out");
        for t in ls.ask(&space, 20).unwrap() {
            let diff = t
                .point
                .0
                .iter()
                .zip([1, 1])
                .filter(|(a, b)| **a != *b)
                .count();
            assert_eq!(diff, 1, "{:?} is one move from the archive", t.point);
        }
        // A point with equal values replaces the member; an incomparable one joins.
        ls.insert(Point(vec![2, 2]), vec![1.0, 1.0]);
        assert_eq!(ls.archive()[0].point, Point(vec![2, 2]));
        ls.insert(Point(vec![0, 9]), vec![0.0, 5.0]);
        assert_eq!(ls.archive().len(), 2);
        ls.insert(Point(vec![3, 3]), vec![0.0, 0.5]);
        assert_eq!(ls.archive().len(), 1);
    }
}
