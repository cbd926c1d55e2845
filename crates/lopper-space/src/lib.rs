//! # lopper-space
//!
//! The four search spaces of Klein et al., "Structural Pruning of Pre-trained Language Models
//! via Neural Architecture Search" (arXiv 2405.02267), for any [`Arch`](lopper_core::Arch),
//! with the semantics and ranges of the paper's reference code:
//!
//! | space | dimensions | a point means |
//! |---|---|---|
//! | [`SmallSpace`] | 3 integers (layers, heads, units) | the first L layers, each with its first H heads and first U units |
//! | [`MediumSpace`] | 2 integers per layer | per layer, its first h heads and first u units |
//! | [`LayerSpace`] | 1 bit per layer | which layers are kept whole |
//! | [`LargeSpace`] | 1 bit per head and per FFN unit | an arbitrary mask (37,008 bits for BERT-base) |
//!
//! Every space implements [`SearchSpace`](lopper_core::SearchSpace). [`SpaceConfig`] names
//! and builds them from configuration files and the command line.

mod config;
mod fixed;
mod large;
mod layer;
mod medium;
mod sampler;
mod small;
mod spec;

pub use config::{SpaceConfig, SpaceKind};
pub use fixed::FixedSpace;
pub use large::LargeSpace;
pub use layer::LayerSpace;
pub use medium::MediumSpace;
pub use sampler::Sampler;
pub use small::{HeadChoice, SmallSpace};
pub use spec::{SpecError, subnet_from_spec};

#[cfg(test)]
mod properties;
