//! # lopper-testkit
//!
//! Everything needed to test a lopper optimizer without a language model:
//!
//! - Multi-objective test problems on discretised domains, as [`Problem`]s (a
//!   [`Space`](lopper_core::Space) plus objectives and a known Pareto front): ZDT1, ZDT2
//!   and ZDT3 ([`Zdt`]; Zitzler, Deb and Thiele, "Comparison of Multiobjective Evolutionary
//!   Algorithms: Empirical Results", Evolutionary Computation 8(2), 2000) and DTLZ2 with any
//!   number of objectives ([`Dtlz2`]; Deb, Thiele, Laumanns and Zitzler, "Scalable Test
//!   Problems for Evolutionary Multiobjective Optimization", 2005). [`problem_by_name`]
//!   builds the standard ones. Each reports its hypervolume regret
//!   ([`Problem::hv_regret`]) and has a synthetic multi-fidelity version
//!   ([`Problem::evaluate_at`]).
//! - [`drive`]: a sequential ask/tell loop returning a [`Trace`] of every evaluation and the
//!   hypervolume after each.
//! - [`conformance`]: the checks every optimizer plugin runs from its tests — valid asks,
//!   rejected bad tells, exact checkpoint round trips, determinism, and beating random
//!   search on ZDT1.
//! - [`assets`]: the real checkpoint and data the integration tests use.
//!
//! The optimizers under test are those of Klein et al., "Structural Pruning of Pre-trained
//! Language Models via Neural Architecture Search" (arXiv 2405.02267); every objective they
//! see is minimised.

pub mod assets;
pub mod conformance;
mod drive;
mod dtlz;
mod error;
mod problem;
mod zdt;

pub use drive::{Trace, drive};
pub use dtlz::Dtlz2;
pub use error::{Result, TestkitError};
pub use problem::{KnownFront, PROBLEM_NAMES, Problem, problem_by_name};
pub use zdt::{Zdt, ZdtKind};
