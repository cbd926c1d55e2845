//! The settings every Bayesian plugin shares, and strict parsing of plugin configurations.

use lopper_core::{CoreError, OptimizerSpec, Result};
use lopper_gp::FitOptions;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Settings shared by `ehvi`, `ls-bo`, `rs-bo` and `parego` (flattened into each plugin's
/// configuration, so they are given at its top level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BoSettings {
    /// Ask the upper bound, the lower bound and the mid-point of the space first, unless they
    /// were already issued (the runner suggests them itself). Default true.
    pub initial_corners: bool,
    /// Uniformly random points asked after the corners, before the first model-based ask
    /// (default 5).
    pub initial_random: usize,
    /// Random candidates scored per model-based ask (default 500).
    pub candidates: usize,
    /// The best candidates that local search starts from (default 5).
    pub local_starts: usize,
    /// Steps of each local search (default 10).
    pub local_steps: usize,
    /// Neighbours scored per local-search step, and per incumbent when seeding candidates
    /// (default 20).
    pub neighbours: usize,
    /// Spaces with more than this many non-constant dimensions are refused (default 200).
    pub max_dims: usize,
    /// How the Gaussian processes' hyper-parameters are fitted.
    pub fit: FitOptions,
}

impl Default for BoSettings {
    fn default() -> Self {
        Self {
            initial_corners: true,
            initial_random: 5,
            candidates: 500,
            local_starts: 5,
            local_steps: 10,
            neighbours: 20,
            max_dims: 200,
            fit: FitOptions::default(),
        }
    }
}

impl BoSettings {
    /// Checks the ranges.
    pub fn validate(&self, plugin: &str) -> Result<()> {
        if self.candidates == 0 {
            return Err(config_error(plugin, "candidates must be at least 1"));
        }
        if self.max_dims == 0 {
            return Err(config_error(plugin, "max_dims must be at least 1"));
        }
        self.fit
            .validate()
            .map_err(|e| config_error(plugin, &e.to_string()))
    }
}

/// A [`CoreError::Config`] for `plugin`.
pub(crate) fn config_error(plugin: &str, message: &str) -> CoreError {
    CoreError::Config {
        plugin: plugin.to_string(),
        message: message.to_string(),
    }
}

/// Parses a plugin's configuration like [`OptimizerSpec::parse_config`], and refuses
/// top-level fields the configuration does not know (`deny_unknown_fields` does not work
/// with the flattened [`BoSettings`]): a field is known when it appears in the serialised
/// parsed value.
pub(crate) fn parse_strict<T>(spec: &OptimizerSpec, plugin: &str) -> Result<T>
where
    T: Serialize + DeserializeOwned + Default,
{
    let config: T = spec.parse_config(plugin)?;
    if let serde_json::Value::Object(given) = &spec.config {
        let known =
            serde_json::to_value(&config).map_err(|e| config_error(plugin, &e.to_string()))?;
        let known = known.as_object().cloned().unwrap_or_default();
        if let Some(unknown) = given.keys().find(|k| !known.contains_key(*k)) {
            let mut names: Vec<&String> = known.keys().collect();
            names.sort();
            let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            return Err(config_error(
                plugin,
                &format!(
                    "unknown field `{unknown}`, expected one of {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(config)
}

/// Checks that `weights` has one positive, finite entry per objective (and a positive sum).
pub(crate) fn check_weights(plugin: &str, weights: &[f64], objectives: usize) -> Result<()> {
    if weights.len() != objectives {
        return Err(config_error(
            plugin,
            &format!(
                "weights has {} entries for {objectives} objectives",
                weights.len()
            ),
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.iter().sum::<f64>() <= 0.0 {
        return Err(config_error(
            plugin,
            "weights must be finite, non-negative and not all zero",
        ));
    }
    Ok(())
}
