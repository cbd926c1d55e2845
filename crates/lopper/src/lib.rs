//! # lopper
//!
//! Structural pruning of pre-trained language models by multi-objective neural architecture
//! search, after Klein et al., "Structural Pruning of Pre-trained Language Models via Neural
//! Architecture Search" (arXiv 2405.02267).
//!
//! This facade re-exports the crates of the workspace and links every bundled plugin, so a
//! program that depends on `lopper` can select any of them by name:
//!
//! ```
//! let names: Vec<_> = lopper::core::optimizer_plugins().iter().map(|p| p.name).collect();
//! for expected in ["ehvi", "local-search", "ls-bo", "morea", "nsga2", "parego", "random", "rs-bo"] {
//!     assert!(names.contains(&expected));
//! }
//! ```

pub mod problems;

pub use burn;
pub use lopper_core as core;
pub use lopper_data as data;
pub use lopper_model as model;
pub use lopper_pareto as pareto;
pub use lopper_pipeline as pipeline;
pub use lopper_prune as prune;
pub use lopper_report as report;
pub use lopper_search as search;
pub use lopper_space as space;
pub use lopper_train as train;

// Linked for their `inventory` registrations only.
use lopper_opt_bayes as _;
use lopper_opt_local_search as _;
use lopper_opt_morea as _;
use lopper_opt_nsga2 as _;
use lopper_opt_random as _;
use lopper_sched_moasha as _;
