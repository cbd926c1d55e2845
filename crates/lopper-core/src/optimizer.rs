//! The optimizer trait and the plugin registry.
//!
//! An optimizer only answers `ask` and `tell`; the runner of `lopper-search` owns the loop.
//! Its whole state is serialisable through [`typetag`], so a checkpoint is one JSON value and a
//! restored optimizer asks exactly what the original would have.
//!
//! Plugins register themselves with [`inventory`]:
//!
//! ```
//! use lopper_core::{Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Result,
//!     SeededRng, Space, Trial, seeded_rng};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Random { rng: SeededRng, pending: PendingTrials, objectives: usize }
//!
//! #[typetag::serde(name = "doc-random")]
//! impl Optimizer for Random {
//!     fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
//!         Ok((0..n).map(|_| { let p = space.sample(&mut self.rng); self.pending.issue(p) }).collect())
//!     }
//!     fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
//!         self.pending.complete_all(done, self.objectives)
//!     }
//! }
//!
//! fn build(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
//!     Ok(Box::new(Random { rng: seeded_rng(spec.seed), pending: PendingTrials::new(),
//!         objectives: spec.num_objectives }))
//! }
//!
//! inventory::submit! { OptimizerPlugin::new("doc-random", "uniform random points", build) }
//!
//! let opt = lopper_core::build_optimizer("doc-random", &OptimizerSpec::new(2, 0)).unwrap();
//! let saved = lopper_core::save_optimizer(opt.as_ref()).unwrap();
//! let _restored = lopper_core::load_optimizer(saved).unwrap();
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::registry::resolve_unique;
use crate::{CoreError, Evaluated, Result, Space, Trial};

/// A multi-objective optimizer: proposes points (`ask`) and learns from their minimisation-
/// oriented objective values (`tell`).
///
/// Implementations keep every random choice in a seeded generator that is part of their
/// serialised state, and check told trials with [`PendingTrials`](crate::PendingTrials).
#[typetag::serde]
pub trait Optimizer: Send {
    /// Proposes `n` new trials from `space`.
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>>;

    /// Receives finished trials. A trial that was never asked, or was already told, is an
    /// error ([`CoreError::UnknownTrial`]) and leaves the optimizer unchanged.
    fn tell(&mut self, done: &[Evaluated]) -> Result<()>;

    /// Issues a trial for one point chosen outside the optimizer, as it issues its own
    /// (through its [`PendingTrials`](crate::PendingTrials)); `None` if it takes no such
    /// points (the default).
    fn issue(&mut self, point: crate::Point) -> Option<Trial> {
        let _ = point;
        None
    }

    /// Issues trials for points chosen outside the optimizer (the runner's initial design, a
    /// user's own candidates), so that their results can be told like any other: each through
    /// [`issue`](Self::issue), refused when the optimizer takes no such points.
    fn suggest(&mut self, points: Vec<crate::Point>) -> Result<Vec<Trial>> {
        points
            .into_iter()
            .map(|p| {
                self.issue(p).ok_or_else(|| {
                    CoreError::Unsupported("this optimizer does not take suggested points".into())
                })
            })
            .collect()
    }
}

/// Serialises an optimizer's whole state, as `{"<plugin name>": {...}}` (externally tagged,
/// so that loading never buffers the state and any serde type round-trips).
pub fn save_optimizer(opt: &dyn Optimizer) -> Result<serde_json::Value> {
    serde_json::to_value(opt).map_err(|e| CoreError::State(e.into()))
}

/// Restores an optimizer saved by [`save_optimizer`]; the plugin must be linked in.
pub fn load_optimizer(state: serde_json::Value) -> Result<Box<dyn Optimizer>> {
    serde_json::from_value(state).map_err(|e| CoreError::State(e.into()))
}

/// What a plugin's factory gets: the problem's size, the seed and the plugin's own settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    /// Number of objectives (all minimised).
    pub num_objectives: usize,
    /// Seed of every random choice the optimizer makes.
    pub seed: u64,
    /// Plugin-specific settings; `null` means the plugin's defaults.
    #[serde(default)]
    pub config: serde_json::Value,
}

impl OptimizerSpec {
    /// Defaults for `num_objectives` objectives and `seed`.
    pub fn new(num_objectives: usize, seed: u64) -> Self {
        Self {
            num_objectives,
            seed,
            config: serde_json::Value::Null,
        }
    }

    /// The same with plugin settings.
    pub fn with_config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }

    /// Parses the plugin settings into `T`: `null` gives `T::default()`, unknown or ill-typed
    /// fields give [`CoreError::Config`] naming `plugin`.
    pub fn parse_config<T: DeserializeOwned + Default>(&self, plugin: &str) -> Result<T> {
        parse_plugin_config(&self.config, plugin)
    }
}

/// Parses a plugin's settings: `null` gives `T::default()`.
pub(crate) fn parse_plugin_config<T: DeserializeOwned + Default>(
    config: &serde_json::Value,
    plugin: &str,
) -> Result<T> {
    if config.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(config.clone()).map_err(|e| CoreError::Config {
        plugin: plugin.to_string(),
        message: e.to_string(),
    })
}

/// The descriptor a plugin crate submits with `inventory::submit!`.
pub struct OptimizerPlugin {
    /// The name users select it by (`nsga2`, `local-search`, …).
    pub name: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
    /// Builds a fresh optimizer.
    pub build: fn(&OptimizerSpec) -> Result<Box<dyn Optimizer>>,
}

impl OptimizerPlugin {
    /// A descriptor (usable in `inventory::submit!`, which needs a constant expression).
    pub const fn new(
        name: &'static str,
        summary: &'static str,
        build: fn(&OptimizerSpec) -> Result<Box<dyn Optimizer>>,
    ) -> Self {
        Self {
            name,
            summary,
            build,
        }
    }
}

inventory::collect!(OptimizerPlugin);

/// Every linked optimizer plugin, sorted by name (duplicates included: see [`find_optimizer`]).
pub fn optimizer_plugins() -> Vec<&'static OptimizerPlugin> {
    let mut all: Vec<_> = inventory::iter::<OptimizerPlugin>.into_iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name));
    all
}

/// The plugin registered as `name`: an error that lists the known names when there is none,
/// and an error when several plugins claim it.
pub fn find_optimizer(name: &str) -> Result<&'static OptimizerPlugin> {
    resolve_unique(&optimizer_plugins(), name, |p| p.name).map_err(|e| e.for_kind("optimizer"))
}

/// Builds the optimizer registered as `name`.
pub fn build_optimizer(name: &str, spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    check_objectives(name, spec.num_objectives)?;
    (find_optimizer(name)?.build)(spec)
}

/// Refuses an optimizer for no objectives: what every optimizer's constructor checks.
pub fn check_objectives(plugin: &str, num_objectives: usize) -> Result<()> {
    if num_objectives == 0 {
        return Err(CoreError::Config {
            plugin: plugin.to_string(),
            message: "at least one objective is needed".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dim, PendingTrials, SeededRng, seeded_rng};

    #[derive(Serialize, Deserialize)]
    struct Counter {
        rng: SeededRng,
        pending: PendingTrials,
    }

    #[typetag::serde(name = "test-counter")]
    impl Optimizer for Counter {
        fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
            Ok((0..n)
                .map(|_| self.pending.issue(space.sample(&mut self.rng)))
                .collect())
        }
        fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
            self.pending.complete_all(done, 1)
        }
    }

    fn build_counter(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
        Ok(Box::new(Counter {
            rng: seeded_rng(spec.seed),
            pending: PendingTrials::new(),
        }))
    }

    inventory::submit! { OptimizerPlugin::new("test-counter", "test plugin", build_counter) }
    inventory::submit! { OptimizerPlugin::new("test-dup", "first of two", build_counter) }
    inventory::submit! { OptimizerPlugin::new("test-dup", "second of two", build_counter) }

    struct Line(Vec<Dim>);
    impl Space for Line {
        fn dims(&self) -> &[Dim] {
            &self.0
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = find_optimizer("nope").err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("unknown optimizer `nope`; known optimizers: "),
            "{msg}"
        );
        assert!(msg.contains("test-counter"), "{msg}");
    }

    #[test]
    fn duplicate_names_are_an_error() {
        assert_eq!(
            find_optimizer("test-dup").err(),
            Some(CoreError::DuplicatePlugin {
                kind: "optimizer".into(),
                name: "test-dup".into(),
                count: 2
            })
        );
    }

    #[test]
    fn checkpoint_round_trip_asks_the_same() {
        let space = Line(vec![Dim::integer("x", 0, 1000)]);
        let mut a = build_optimizer("test-counter", &OptimizerSpec::new(1, 3)).unwrap();
        a.ask(&space, 2).unwrap();
        let saved = save_optimizer(a.as_ref()).unwrap();
        assert!(saved.get("test-counter").is_some(), "{saved}");
        let mut b = load_optimizer(saved).unwrap();
        assert_eq!(a.ask(&space, 5).unwrap(), b.ask(&space, 5).unwrap());
        assert!(matches!(
            load_optimizer(serde_json::json!({"gone": {}})),
            Err(CoreError::State(_))
        ));
    }

    #[test]
    fn config_parsing() {
        #[derive(Debug, Default, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Cfg {
            #[serde(default)]
            population: usize,
        }
        let spec = OptimizerSpec::new(2, 0);
        assert_eq!(spec.parse_config::<Cfg>("x").unwrap(), Cfg::default());
        let spec = spec.with_config(serde_json::json!({"populaton": 3}));
        let err = spec.parse_config::<Cfg>("x").unwrap_err();
        assert!(err.to_string().contains("populaton"), "{err}");
        assert!(build_optimizer("test-counter", &OptimizerSpec::new(0, 0)).is_err());
    }
}
