//! # lopper-gp
//!
//! The Gaussian-process surrogate of lopper's Bayesian optimizers (`lopper-opt-bayes`):
//!
//! - [`Encoding`]: points of a [`Space`](lopper_core::Space) in the unit cube — integer and
//!   ordinal dimensions scaled, binary ones 0/1, categorical ones one-hot.
//! - A Matérn-5/2 kernel with automatic relevance determination (one length-scale per
//!   dimension of the space), a signal variance and Gaussian observation noise, on targets
//!   standardised to mean 0 and variance 1 ([`Hyper`], [`HyperBounds`]).
//! - [`fit`]: maximum a posteriori hyper-parameters — the log marginal likelihood
//!   ([`log_marginal_likelihood`], Rasmussen and Williams, *Gaussian Processes for Machine
//!   Learning*, MIT Press 2006, ch. 5) plus weak log-normal priors, maximised by L-BFGS
//!   (Nocedal 1980, as implemented by the `argmin` crate) within box bounds, from several
//!   seeded starts, or warm-started from the previous fit.
//! - [`Gp`]: the posterior — mean and variance ([`Gp::predict`]) and conditioning on
//!   fantasised observations ([`Gp::condition_on`], for kriging-believer batches).
//!
//! The kernel matrix is factorised by Cholesky; when that fails, growing jitter is added to
//! its diagonal, and if it still fails the error ([`GpError::NotPositiveDefinite`]) says so.
//! Everything is `O(n³)` in the number of observations and `O(n² d)` in the dimension, which
//! suits the few hundred evaluations and the tens of dimensions of the paper's SMALL, MEDIUM
//! and LAYER spaces (Klein et al., arXiv 2405.02267), not the thousands of binary dimensions
//! of LARGE.

mod data;
mod encode;
mod error;
mod fit;
mod gp;
mod hyper;
mod likelihood;

pub use data::TrainingData;
pub use encode::Encoding;
pub use error::{GpError, Result};
pub use fit::{FitOptions, fit};
pub use gp::{Gp, Prediction};
pub use hyper::{Hyper, HyperBounds};
pub use likelihood::log_marginal_likelihood;
