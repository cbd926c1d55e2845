//! Training strategies: which sub-networks one step trains, and with which loss.

use lopper_core::{SearchSpace, Subnet};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::{Result, TrainError};

/// Why a sub-network is in a step (recorded in the trace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The space's largest member (the full network for the paper's spaces).
    Largest,
    /// The space's smallest member.
    Smallest,
    /// A uniformly sampled member.
    Random,
}

/// The loss a member is trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Cross-entropy with the labels (MSE for regression).
    Task,
    /// In-place distillation from the step's first (largest) member's detached logits, plus the
    /// task loss.
    Distill,
}

/// One sub-network trained in a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Why it is there.
    pub role: Role,
    /// What is kept.
    pub subnet: Subnet,
    /// How it is trained.
    pub loss: LossKind,
}

/// Settings shared by the strategies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StrategyConfig {
    /// Random sub-networks per step (`random`, `sandwich`, `full`; the paper's k = 2).
    pub num_random: usize,
    /// Distillation temperature (the paper's T = 10).
    pub temperature: f64,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        Self {
            num_random: 2,
            temperature: 10.0,
        }
    }
}

/// A training strategy: plans the members of every step. Gradients of all members are
/// accumulated into the shared weights and the optimizer steps once.
pub trait Strategy: Send {
    /// The name it is selected by.
    fn name(&self) -> &'static str;

    /// The members of step `step` of `total`, drawn from `space` with `rng`. A `Distill` member
    /// comes after the `Largest` member that teaches it.
    fn plan(
        &self,
        space: &dyn SearchSpace,
        step: usize,
        total: usize,
        rng: &mut dyn Rng,
    ) -> Result<Vec<Member>>;
}

fn largest(space: &dyn SearchSpace, loss: LossKind) -> Result<Member> {
    Ok(Member {
        role: Role::Largest,
        subnet: space.decode(&space.largest())?,
        loss,
    })
}

fn smallest(space: &dyn SearchSpace, loss: LossKind) -> Result<Member> {
    Ok(Member {
        role: Role::Smallest,
        subnet: space.decode(&space.smallest())?,
        loss,
    })
}

fn random(space: &dyn SearchSpace, rng: &mut dyn Rng, loss: LossKind) -> Result<Member> {
    let p = space.sample(rng);
    Ok(Member {
        role: Role::Random,
        subnet: space.decode(&p)?,
        loss,
    })
}

/// The full network with cross-entropy: plain fine-tuning.
struct Standard;
/// `k` random sub-networks.
struct RandomK(usize);
/// A random sub-network with probability `step / total`, else the full network.
struct LinearRandom;
/// Largest + smallest + `k` random; with `distill`, the smallest and the random ones learn from
/// the largest's logits (the paper's `full`), else from the labels (`sandwich`).
struct Sandwich {
    k: usize,
    distill: bool,
}
/// The full network with the labels, one random sub-network distilled from it.
struct Kd;

impl Strategy for Standard {
    fn name(&self) -> &'static str {
        "standard"
    }
    fn plan(
        &self,
        space: &dyn SearchSpace,
        _: usize,
        _: usize,
        _: &mut dyn Rng,
    ) -> Result<Vec<Member>> {
        Ok(vec![largest(space, LossKind::Task)?])
    }
}

impl Strategy for RandomK {
    fn name(&self) -> &'static str {
        "random"
    }
    fn plan(
        &self,
        space: &dyn SearchSpace,
        _: usize,
        _: usize,
        rng: &mut dyn Rng,
    ) -> Result<Vec<Member>> {
        (0..self.0)
            .map(|_| random(space, rng, LossKind::Task))
            .collect()
    }
}

impl Strategy for LinearRandom {
    fn name(&self) -> &'static str {
        "linear-random"
    }
    fn plan(
        &self,
        space: &dyn SearchSpace,
        step: usize,
        total: usize,
        rng: &mut dyn Rng,
    ) -> Result<Vec<Member>> {
        let p = step as f64 / total.max(1) as f64;
        Ok(vec![if rng.random_bool(p.clamp(0.0, 1.0)) {
            random(space, rng, LossKind::Task)?
        } else {
            largest(space, LossKind::Task)?
        }])
    }
}

impl Strategy for Sandwich {
    fn name(&self) -> &'static str {
        if self.distill { "full" } else { "sandwich" }
    }
    fn plan(
        &self,
        space: &dyn SearchSpace,
        _: usize,
        _: usize,
        rng: &mut dyn Rng,
    ) -> Result<Vec<Member>> {
        let student = if self.distill {
            LossKind::Distill
        } else {
            LossKind::Task
        };
        let mut m = vec![largest(space, LossKind::Task)?, smallest(space, student)?];
        for _ in 0..self.k {
            m.push(random(space, rng, student)?);
        }
        Ok(m)
    }
}

impl Strategy for Kd {
    fn name(&self) -> &'static str {
        "kd"
    }
    fn plan(
        &self,
        space: &dyn SearchSpace,
        _: usize,
        _: usize,
        rng: &mut dyn Rng,
    ) -> Result<Vec<Member>> {
        Ok(vec![
            largest(space, LossKind::Task)?,
            random(space, rng, LossKind::Distill)?,
        ])
    }
}

/// The strategies' names.
pub const STRATEGIES: [&str; 6] = [
    "standard",
    "random",
    "linear-random",
    "sandwich",
    "kd",
    "full",
];

/// The strategy called `name`.
pub fn strategy_by_name(name: &str, config: &StrategyConfig) -> Result<Box<dyn Strategy>> {
    let k = config.num_random;
    if k == 0 && matches!(name, "random") {
        return Err(TrainError::Settings(
            "the random strategy needs num_random ≥ 1".into(),
        ));
    }
    Ok(match name {
        "standard" => Box::new(Standard),
        "random" => Box::new(RandomK(k)),
        "linear-random" => Box::new(LinearRandom),
        "sandwich" => Box::new(Sandwich { k, distill: false }),
        "kd" => Box::new(Kd),
        "full" => Box::new(Sandwich { k, distill: true }),
        other => {
            return Err(TrainError::Settings(format!(
                "unknown strategy `{other}`; known strategies: {}",
                STRATEGIES.join(", ")
            )));
        }
    })
}
