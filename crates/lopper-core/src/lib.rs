//! # lopper-core
//!
//! The shared vocabulary of lopper, the structural pruner of pre-trained language models by
//! multi-objective neural architecture search (Klein et al., "Structural Pruning of
//! Pre-trained Language Models via Neural Architecture Search", arXiv 2405.02267):
//!
//! - [`Arch`]: the shape of an encoder; [`Subnet`]: which heads, units and layers a
//!   sub-network keeps.
//! - [`Dim`], [`Domain`], [`Point`]: the optimizer's view of a search space; [`Space`] and
//!   [`SearchSpace`]: the traits spaces implement.
//! - [`Objective`], [`Direction`], [`Trial`], [`Evaluated`]: what is measured and exchanged.
//! - [`Optimizer`] and the plugin registry ([`OptimizerPlugin`], [`find_optimizer`],
//!   [`build_optimizer`]); multi-fidelity [`Scheduler`]s and their registry.
//!
//! Nothing here knows about tensors: optimizers see points and numbers only.

mod arch;
mod error;
pub mod fs;
mod objective;
mod optimizer;
mod point;
mod registry;
mod rng;
mod scheduler;
mod space;
mod subnet;
mod trial;

pub use arch::Arch;
pub use error::{CoreError, Result, StateError};
pub use objective::{Direction, Objective};
pub use optimizer::{
    Optimizer, OptimizerPlugin, OptimizerSpec, build_optimizer, check_objectives, find_optimizer,
    load_optimizer, optimizer_plugins, save_optimizer,
};
pub use point::{Dim, Domain, Point};
pub use registry::find_plugin;
pub use rng::{SeededRng, seeded_rng};
pub use scheduler::{
    Decision, Scheduler, SchedulerPlugin, SchedulerSpec, build_scheduler, load_scheduler,
    save_scheduler, scheduler_plugins,
};
pub use space::{SearchSpace, Space};
pub use subnet::{LayerKeep, Subnet};
pub use trial::{Evaluated, PendingTrials, Trial};

// Re-exported so that plugin crates use the same versions as the registry.
pub use inventory;
pub use typetag;
