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

/// The paper's training strategies, by the names the command line and the run records use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// The full network with the labels: plain fine-tuning.
    Standard,
    /// `num_random` random sub-networks.
    Random,
    /// A random sub-network with probability `step / total`, else the full network.
    LinearRandom,
    /// Largest, smallest and `num_random` random sub-networks, all from the labels.
    Sandwich,
    /// The full network from the labels, one random sub-network distilled from it.
    Kd,
    /// The sandwich rule with in-place distillation (the paper's choice).
    Full,
}

impl StrategyKind {
    /// Every strategy, in the paper's order.
    pub const ALL: [StrategyKind; 6] = [
        StrategyKind::Standard,
        StrategyKind::Random,
        StrategyKind::LinearRandom,
        StrategyKind::Sandwich,
        StrategyKind::Kd,
        StrategyKind::Full,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Standard => "standard",
            StrategyKind::Random => "random",
            StrategyKind::LinearRandom => "linear-random",
            StrategyKind::Sandwich => "sandwich",
            StrategyKind::Kd => "kd",
            StrategyKind::Full => "full",
        }
    }

    /// Whether it trains sub-networks besides the full network (so that the smallest one is
    /// worth validating).
    pub fn trains_subnetworks(self) -> bool {
        self != StrategyKind::Standard
    }

    /// The strategy with its sampling and distillation settings.
    pub fn build(self, config: &StrategyConfig) -> Result<Box<dyn Strategy>> {
        let k = config.num_random;
        Ok(match self {
            StrategyKind::Random if k == 0 => {
                return Err(TrainError::Settings(
                    "the random strategy needs num_random ≥ 1".into(),
                ));
            }
            StrategyKind::Standard => Box::new(Standard),
            StrategyKind::Random => Box::new(RandomK(k)),
            StrategyKind::LinearRandom => Box::new(LinearRandom),
            StrategyKind::Sandwich => Box::new(Sandwich { k, distill: false }),
            StrategyKind::Kd => Box::new(Kd),
            StrategyKind::Full => Box::new(Sandwich { k, distill: true }),
        })
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a strategy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown strategy `{0}`: expected one of standard, random, linear-random, sandwich, kd, full"
)]
pub struct UnknownStrategy(pub String);

impl std::str::FromStr for StrategyKind {
    type Err = UnknownStrategy;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        StrategyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}

/// The strategies, in the paper's order.
pub const STRATEGIES: [StrategyKind; 6] = StrategyKind::ALL;

/// The strategy called `name`.
pub fn strategy_by_name(name: &str, config: &StrategyConfig) -> Result<Box<dyn Strategy>> {
    name.parse::<StrategyKind>()?.build(config)
}
