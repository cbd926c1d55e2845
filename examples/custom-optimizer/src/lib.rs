//! A complete optimizer plugin: a hill climber on random weighted sums of the objectives.
//!
//! Each ask draws fresh weights, picks the told point with the best weighted sum (objectives
//! min-max scaled over what was told) and mutates one of its dimensions. Until something is
//! told it asks random points.

// ANCHOR: plugin
use lopper::core::{
    CoreError, Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result,
    SeededRng, Space, Trial, seeded_rng,
};
use lopper::core::{inventory, typetag};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The plugin's settings; `deny_unknown_fields` turns a typo into a clear error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClimberConfig {
    /// Random points asked before climbing starts (at least 1; default 10).
    pub warm_up: usize,
}

impl Default for ClimberConfig {
    fn default() -> Self {
        Self { warm_up: 10 }
    }
}

/// The whole state is serialisable: a checkpointed search resumes with the same asks.
#[derive(Serialize, Deserialize)]
pub struct WeightedClimber {
    config: ClimberConfig,
    objectives: usize,
    rng: SeededRng,
    pending: PendingTrials,
    told: Vec<(Point, Vec<f64>)>,
}

impl WeightedClimber {
    /// The told point with the smallest weighted sum of min-max scaled objectives.
    fn best_under(&self, weights: &[f64]) -> Option<&Point> {
        let k = self.objectives;
        let lo: Vec<f64> = (0..k)
            .map(|i| {
                self.told
                    .iter()
                    .map(|t| t.1[i])
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        let hi: Vec<f64> = (0..k)
            .map(|i| {
                self.told
                    .iter()
                    .map(|t| t.1[i])
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let score = |v: &[f64]| -> f64 {
            (0..k)
                .map(|i| weights[i] * (v[i] - lo[i]) / (hi[i] - lo[i]).max(1e-12))
                .sum()
        };
        self.told
            .iter()
            .min_by(|a, b| score(&a.1).total_cmp(&score(&b.1)))
            .map(|t| &t.0)
    }
}

#[typetag::serde(name = "weighted-climber")]
impl Optimizer for WeightedClimber {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut trials = Vec::with_capacity(n);
        for _ in 0..n {
            let point = if self.told.len() < self.config.warm_up.max(1) {
                space.sample(&mut self.rng)
            } else {
                let weights: Vec<f64> = (0..self.objectives).map(|_| self.rng.random()).collect();
                let parent = self
                    .best_under(&weights)
                    .cloned()
                    .unwrap_or_else(|| space.sample(&mut self.rng));
                space.mutate(&parent, &mut self.rng)
            };
            trials.push(self.pending.issue(point));
        }
        Ok(trials)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        // Checks every id and value count first; a bad batch changes nothing.
        self.pending.complete_all(done, self.objectives)?;
        // Infinities (a diverged evaluation) are clamped so that the state stays valid JSON.
        self.told.extend(
            done.iter()
                .map(|d| (d.trial.point.clone(), d.storable_values())),
        );
        Ok(())
    }

    fn issue(&mut self, point: Point) -> Option<Trial> {
        Some(self.pending.issue(point))
    }
}

fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    let config: ClimberConfig = spec.parse_config("weighted-climber")?;
    if config.warm_up == 0 {
        return Err(CoreError::Config {
            plugin: "weighted-climber".into(),
            message: "warm_up must be at least 1".into(),
        });
    }
    Ok(Box::new(WeightedClimber {
        config,
        objectives: spec.num_objectives,
        rng: seeded_rng(spec.seed),
        pending: PendingTrials::new(),
        told: Vec::new(),
    }))
}

inventory::submit! {
    OptimizerPlugin::new(
        "weighted-climber",
        "hill climbing on random weighted sums of the objectives (the book's example plugin)",
        build,
    )
}
// ANCHOR_END: plugin
