//! What is optimised: objective metadata and directions.

use serde::{Deserialize, Serialize};

/// Whether smaller or larger is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smaller is better (error, parameters, latency).
    Minimize,
    /// Larger is better (accuracy).
    Maximize,
}

impl Direction {
    /// `value` in minimisation orientation: itself for [`Direction::Minimize`], negated for
    /// [`Direction::Maximize`]. Optimizers and Pareto tools always minimise.
    pub fn to_min(self, value: f64) -> f64 {
        match self {
            Direction::Minimize => value,
            Direction::Maximize => -value,
        }
    }
}

/// What an objective is: its name, direction and unit. How it is computed lives elsewhere
/// (the evaluator); optimizers only ever see minimisation-oriented numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Objective {
    /// Name, e.g. `error` or `params`.
    pub name: String,
    /// Whether smaller or larger is better.
    pub direction: Direction,
    /// Unit, e.g. `fraction`, `ms` (empty when unitless).
    pub unit: String,
}

impl Objective {
    /// An objective to minimise.
    pub fn minimize(name: impl Into<String>, unit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            direction: Direction::Minimize,
            unit: unit.into(),
        }
    }

    /// An objective to maximise.
    pub fn maximize(name: impl Into<String>, unit: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            direction: Direction::Maximize,
            unit: unit.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation() {
        assert_eq!(Direction::Minimize.to_min(0.3), 0.3);
        assert_eq!(Direction::Maximize.to_min(0.3), -0.3);
        let o = Objective::maximize("accuracy", "fraction");
        let json = serde_json::to_string(&o).unwrap();
        assert!(json.contains("\"maximize\""));
    }
}
