//! # lopper-prune
//!
//! Stage two of Klein et al., "Structural Pruning of Pre-trained Language Models via Neural
//! Architecture Search" (arXiv 2405.02267): search a trained weight-sharing super-network for
//! the sub-networks that trade validation error against size or latency, with no retraining.
//!
//! - [`SubnetObjective`]: what a sub-network is measured on. The built-in `error`, `params`,
//!   `macs` and `latency` (see [`objective`]) and your own register by name as
//!   [`ObjectivePlugin`]s; [`ObjectiveSpec`] names one with its settings.
//! - [`SubnetEvaluator`]: the [`lopper_search::Evaluator`] a search runs: decodes each point,
//!   measures the sub-network (sliced: only kept heads and units computed), caches results by
//!   sub-network, and runs timings alone.

mod error;
mod evaluator;
pub mod objective;

pub use error::{PruneError, Result};
pub use evaluator::{SubnetEvaluator, measure_subnet};
pub use objective::{
    LatencySettings, ObjectiveContext, ObjectivePlugin, ObjectiveSpec, SubnetObjective, Value,
    objective_plugins,
};
