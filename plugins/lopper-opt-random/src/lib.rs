//! # lopper-opt-random
//!
//! Uniform random search, the `random` optimizer plugin: every asked point is an independent
//! draw of [`Space::sample`]. It is the baseline of Klein et al., "Structural Pruning of
//! Pre-trained Language Models via Neural Architecture Search" (arXiv 2405.02267), and of
//! the quality check every other plugin must pass
//! (`lopper_testkit::conformance::quality`). Told results are checked and otherwise ignored.
//!
//! Configuration: none; `null` or `{}` (unknown fields are an error).

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result, SeededRng,
    Space, Trial, inventory, seeded_rng,
};
use serde::{Deserialize, Serialize};

/// The name the plugin is registered (and serialised) under.
pub const NAME: &str = "random";

/// The configuration: there is nothing to set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomConfig {}

/// Uniform random search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomSearch {
    rng: SeededRng,
    pending: PendingTrials,
    num_objectives: usize,
}

impl RandomSearch {
    /// A search for `num_objectives ≥ 1` objectives seeded with `seed`.
    pub fn new(num_objectives: usize, seed: u64) -> Result<Self> {
        lopper_core::check_objectives(NAME, num_objectives)?;
        Ok(Self {
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            num_objectives,
        })
    }

    /// Builds the plugin from a spec (the registry's factory).
    pub fn from_spec(spec: &OptimizerSpec) -> Result<Self> {
        let RandomConfig {} = spec.parse_config(NAME)?;
        Self::new(spec.num_objectives, spec.seed)
    }
}

#[typetag::serde(name = "random")]
impl Optimizer for RandomSearch {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        Ok((0..n)
            .map(|_| {
                let p = space.sample(&mut self.rng);
                self.pending.issue(p)
            })
            .collect())
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.pending.complete_all(done, self.num_objectives)
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.pending.issue(point))
    }
}

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    Ok(Box::new(RandomSearch::from_spec(spec)?))
}

inventory::submit! {
    OptimizerPlugin::new(NAME, "uniform random search (the baseline)", build)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_testkit::conformance;
    use serde_json::json;

    #[test]
    fn conformance_suite() {
        // The baseline itself skips the quality check.
        assert_eq!(conformance::run_all(NAME, json!({})).unwrap(), None);
    }

    #[test]
    fn config_is_validated() {
        let spec = OptimizerSpec::new(2, 0).with_config(json!({"population": 3}));
        let err = lopper_core::build_optimizer(NAME, &spec).err().unwrap();
        assert!(
            matches!(err, lopper_core::CoreError::Config { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("population"), "{err}");
        assert!(lopper_core::build_optimizer(NAME, &OptimizerSpec::new(2, 0)).is_ok());
    }
}
