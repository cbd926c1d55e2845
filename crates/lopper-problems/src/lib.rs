//! # lopper-problems
//!
//! Multi-objective test problems on discretised domains, as [`Problem`]s (a
//! [`Space`](lopper_core::Space) plus objectives and a known Pareto front): ZDT1, ZDT2 and ZDT3
//! ([`Zdt`]; Zitzler, Deb and Thiele, "Comparison of Multiobjective Evolutionary Algorithms:
//! Empirical Results", Evolutionary Computation 8(2), 2000) and DTLZ2 with any number of
//! objectives ([`Dtlz2`]; Deb, Thiele, Laumanns and Zitzler, "Scalable Test Problems for
//! Evolutionary Multiobjective Optimization", 2005). [`problem_by_name`] builds the standard
//! ones. Each reports its hypervolume regret ([`Problem::hv_regret`]) and has a synthetic
//! multi-fidelity version ([`Problem::evaluate_at`]).
//!
//! What `lopper bench-moo` and the optimizer benchmarks search; a product crate, so that the
//! `lopper` facade does not depend on the test kit (`lopper-testkit` builds its conformance
//! suite on these problems and re-exports them). Every objective is minimised.

mod dtlz;
mod error;
mod problem;
mod zdt;

pub use dtlz::Dtlz2;
pub use error::{ProblemError, Result};
pub use problem::{KnownFront, PROBLEM_NAMES, Problem, problem_by_name};
pub use zdt::{Zdt, ZdtKind};
