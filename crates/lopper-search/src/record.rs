//! One line of the trial log.

use lopper_core::Point;
use serde::{Deserialize, Serialize};

/// A finished trial as a search keeps it (a row of its run folder or trial store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The trial id, as the optimizer issued it.
    pub id: u64,
    /// The point evaluated.
    pub point: Point,
    /// Objective values in the objectives' own orientation (an infinity is logged as
    /// `±f64::MAX`).
    pub values: Vec<f64>,
    /// The fidelity reached, for multi-fidelity searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<u32>,
    /// Seconds the evaluation took.
    pub eval_seconds: f64,
    /// Seconds since the search first started (summed over resumed sessions) when it finished.
    pub finished_at: f64,
    /// Why the trial has no measured values, when it failed on every attempt (its values are
    /// then the worst there are, and the optimizer was told so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Whatever the evaluator added.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub info: serde_json::Value,
}
