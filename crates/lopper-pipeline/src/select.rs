//! Choosing one sub-network of a front by a budget.

use serde::{Deserialize, Serialize};

use crate::records::{FrontFile, FrontMember};
use crate::{PipelineError, Result};

/// A budget; in a pipeline file, the `[select]` table. With limits on parameters, latency or
/// MACs, the member with the lowest validation error within all of them is chosen; with only
/// an error increase, the smallest (by the front's other objective) within it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// At most this fraction of the full model's parameters (the `params` objective).
    #[cfg_attr(feature = "clap", arg(long, value_name = "FRACTION"))]
    #[serde(default)]
    pub max_params: Option<f64>,
    /// At most this median latency in ms (the `latency` objective).
    #[cfg_attr(feature = "clap", arg(long, value_name = "MS"))]
    #[serde(default)]
    pub max_latency_ms: Option<f64>,
    /// At most this many multiply-accumulates (the `macs` objective).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub max_macs: Option<f64>,
    /// At most this much more validation error than the unpruned network; alone, the
    /// smallest member within it is chosen.
    #[cfg_attr(feature = "clap", arg(long, value_name = "DELTA"))]
    #[serde(default)]
    pub max_error_increase: Option<f64>,
}

impl Budget {
    /// Whether it sets any limit.
    pub fn is_empty(&self) -> bool {
        self.max_params.is_none()
            && self.max_latency_ms.is_none()
            && self.max_macs.is_none()
            && self.max_error_increase.is_none()
    }
}

/// The member of `front` that `budget` chooses (see [`Budget`]).
pub fn select<'a>(front: &'a FrontFile, budget: &Budget) -> Result<&'a FrontMember> {
    if budget.is_empty() {
        return Err(PipelineError::NoBudget);
    }
    let column = |name: &str| {
        front
            .column(name)
            .ok_or_else(|| PipelineError::NoObjective {
                name: name.into(),
                have: front
                    .objectives
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let error = column("error")?;
    let mut limits = Vec::new();
    for (name, limit) in [
        ("params", budget.max_params),
        ("latency", budget.max_latency_ms),
        ("macs", budget.max_macs),
    ] {
        if let Some(v) = limit {
            limits.push((column(name)?, v));
        }
    }
    // Chosen by error within the size limits; with none, the smallest within the error limit.
    let minimise = if limits.is_empty() {
        (0..front.objectives.len())
            .find(|&c| c != error)
            .unwrap_or(error)
    } else {
        error
    };
    if let Some(d) = budget.max_error_increase {
        limits.push((error, front.full.values[error] + d));
    }
    let points: Vec<&[f64]> = front.front.iter().map(|m| m.values.as_slice()).collect();
    lopper_pareto::best_within(&points, minimise, &limits)?
        .map(|i| &front.front[i])
        .ok_or(PipelineError::NothingFits {
            members: front.front.len(),
        })
}
