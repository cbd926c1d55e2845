//! Multi-fidelity schedulers: they watch the intermediate results a trial reports (per epoch,
//! per data fraction, …) and may stop it early.
//!
//! A scheduler is a plugin like an optimizer: it implements [`Scheduler`], submits a
//! [`SchedulerPlugin`], and its whole state is serialised with the search's checkpoint.

use serde::{Deserialize, Serialize};

use crate::registry::resolve_unique;
use crate::{CoreError, Result};

/// What a scheduler answers to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go on to the next fidelity.
    Continue,
    /// Stop the trial here; its last report is its result.
    Stop,
}

/// Decides, from intermediate results, which trials go on.
#[typetag::serde]
pub trait Scheduler: Send {
    /// The highest fidelity a trial runs to (`1..=max_fidelity`).
    fn max_fidelity(&self) -> u32;

    /// Trial `trial` reached `fidelity` with minimisation-oriented `values`. Reports of one
    /// trial come with increasing fidelity.
    fn report(&mut self, trial: u64, fidelity: u32, values: &[f64]) -> Result<Decision>;
}

/// What a scheduler's factory gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerSpec {
    /// Number of objectives (all minimised).
    pub num_objectives: usize,
    /// Seed of any random choice the scheduler makes.
    pub seed: u64,
    /// Plugin-specific settings; `null` means the plugin's defaults.
    #[serde(default)]
    pub config: serde_json::Value,
}

impl SchedulerSpec {
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

    /// Parses the plugin settings (`null` gives the defaults).
    pub fn parse_config<T: serde::de::DeserializeOwned + Default>(
        &self,
        plugin: &str,
    ) -> Result<T> {
        crate::optimizer::parse_plugin_config(&self.config, plugin)
    }
}

/// The descriptor a scheduler plugin submits with `inventory::submit!`.
pub struct SchedulerPlugin {
    /// The name users select it by (`mo-asha`, …).
    pub name: &'static str,
    /// One line saying what it does.
    pub summary: &'static str,
    /// Builds a fresh scheduler.
    pub build: fn(&SchedulerSpec) -> Result<Box<dyn Scheduler>>,
}

impl SchedulerPlugin {
    /// A descriptor (usable in `inventory::submit!`).
    pub const fn new(
        name: &'static str,
        summary: &'static str,
        build: fn(&SchedulerSpec) -> Result<Box<dyn Scheduler>>,
    ) -> Self {
        Self {
            name,
            summary,
            build,
        }
    }
}

inventory::collect!(SchedulerPlugin);

/// Every linked scheduler plugin, sorted by name.
pub fn scheduler_plugins() -> Vec<&'static SchedulerPlugin> {
    let mut all: Vec<_> = inventory::iter::<SchedulerPlugin>.into_iter().collect();
    all.sort_by(|a, b| a.name.cmp(b.name));
    all
}

/// Builds the scheduler registered as `name` (unknown or duplicate names are errors).
pub fn build_scheduler(name: &str, spec: &SchedulerSpec) -> Result<Box<dyn Scheduler>> {
    let plugins = scheduler_plugins();
    let plugin = resolve_unique(&plugins, name, |p| p.name).map_err(|e| e.for_kind("scheduler"))?;
    (plugin.build)(spec)
}

/// Serialises a scheduler's whole state.
pub fn save_scheduler(s: &dyn Scheduler) -> Result<serde_json::Value> {
    serde_json::to_value(s).map_err(|e| CoreError::State(e.into()))
}

/// Restores a scheduler saved by [`save_scheduler`].
pub fn load_scheduler(state: serde_json::Value) -> Result<Box<dyn Scheduler>> {
    serde_json::from_value(state).map_err(|e| CoreError::State(e.into()))
}
