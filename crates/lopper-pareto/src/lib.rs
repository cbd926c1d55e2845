//! # lopper-pareto
//!
//! Pareto-front tools for lopper's multi-objective search. Every objective is
//! **minimised** (turn maximised ones around with `lopper_core::Direction::to_min`) and
//! every value is an `f64`; point sets are slices of anything that derefs to `[f64]`
//! (`Vec<f64>`, `[f64; N]`, `&[f64]`).
//!
//! - Dominance: [`dominates`], [`weakly_dominates`], [`strictly_dominates`], [`compare`],
//!   [`non_dominated`].
//! - NSGA-II machinery: [`non_dominated_sort`] (fronts and ranks), [`crowding_distance`].
//! - Exact [`hypervolume`] (2-D and 3-D sweeps in O(n log n), WFG beyond) and
//!   [`exclusive_contribution`].
//! - [`Archive`]: the running non-dominated set with payloads, an incrementally updated
//!   hypervolume and its anytime trace; serialisable for checkpoints.
//! - Normalisation: [`normalize`] (min-max), [`quantile_transform`] and
//!   [`quantile_hypervolumes`] (the paper's protocol for comparing runs).
//! - Indicators: [`igd_plus`], [`best_under_constraint`].

mod archive;
mod dominance;
mod error;
mod hypervolume;
mod indicators;
mod normalize;
mod sort;
mod table;

pub use archive::{Archive, ArchiveEntry, Insertion};
pub use dominance::{
    Dominance, compare, dominates, non_dominated, strictly_dominates, weakly_dominates,
};
pub use error::{ParetoError, Result};
pub use hypervolume::{exclusive_contribution, hypervolume};
pub use indicators::{best_under_constraint, best_within, igd_plus};
pub use normalize::{normalize, quantile_hypervolumes, quantile_transform};
pub use sort::{Fronts, crowding_distance, non_dominated_sort};
pub use table::{PointTable, TableError};
