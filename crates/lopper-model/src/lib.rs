//! # lopper-model
//!
//! BERT and RoBERTa encoders on Burn as weight-sharing super-networks, after Klein et al.,
//! "Structural Pruning of Pre-trained Language Models via Neural Architecture Search" (arXiv
//! 2405.02267), on Devlin et al. (BERT, arXiv 1810.04805) and Liu et al. (RoBERTa, arXiv
//! 1907.11692).
//!
//! - [`SuperNet::load`] reads a Hugging Face checkpoint folder (`config.json`,
//!   `model.safetensors`, with or without the `bert.`/`roberta.` prefix, legacy LayerNorm
//!   names); a missing tensor or a shape mismatch is an error naming the tensor.
//! - [`SuperNet::forward`] runs any [`Subnet`](lopper_core::Subnet), passed explicitly,
//!   [`Mode::Sliced`] (only kept heads and units computed; gradients land in the shared
//!   parameters) or [`Mode::Masked`] (the reference semantics).
//! - [`SuperNet::extract`] gives the dense pruned model, a [`PrunedNet`] (another type: it runs
//!   whole); [`export()`] writes it in the Hugging Face layout with per-layer shapes and
//!   [`PrunedNet::load`] reads it back. [`Model::load`] takes a folder of either kind, and the
//!   [`Network`] trait is what scoring and timing take of both.
//! - [`SuperNet::importance`] and [`SuperNet::rewire`] reorder heads and units, most important
//!   first, so that spaces keeping the first ones keep those (DynaBERT's rewiring).
//! - [`paper_params`], [`encoder_params`], [`dense_params`] and [`macs`] count a sub-network
//!   from the config.
//!
//! The backend is Burn's run-time [`Device`](burn::tensor::Device): `Device::flex()` by
//! default (feature `flex`), `Device::libtorch()` with feature `tch`, `Device::cuda(0)` with
//! feature `cuda` (untested on offline machines).

mod batch;
mod config;
mod count;
mod encoder;
mod error;
mod export;
mod modules;
mod onnx;
mod pooling;
mod probe;
mod pruned;
mod rewire;
mod source;
mod supernet;
mod weights;

pub use batch::Batch;
pub use config::{EncoderConfig, Family, HeadKind, LayerShape};
pub use count::{dense_params, encoder_params, macs, paper_params};
pub use encoder::{Classifier, EncoderOutput, EncoderWeights, LoadReport, Mode};
pub use error::{ModelError, Result};
pub use export::{ExportSize, export, export_hf, save};
/// lopper's own kernels (the [`lopper_kernels`] crate), which the encoder runs on.
pub use lopper_kernels as kernels;
pub use modules::{Attention, Dense, Embeddings, FeedForward, Layer, Norm};
pub use onnx::{export_onnx, onnx_takes_token_types};
pub use pooling::{Pooling, l2_normalize, pool, sentence_transformers_defaults};
pub use probe::{AttentionParts, FfnParts};
pub use pruned::{Model, Network, PrunedNet};
pub use rewire::{Importance, Rewiring};
pub use source::resolve_model;
pub use supernet::{Masks, SuperNet};
pub use weights::WeightFiles;

/// The name of the backend [`default_device`] runs on: `flex`, `tch` or `cuda` (recorded in run
/// folders).
pub fn default_backend() -> &'static str {
    if cfg!(feature = "flex") {
        "flex"
    } else if cfg!(feature = "tch") {
        "tch"
    } else {
        "cuda"
    }
}

/// The default device of the compiled-in backends: Flex (pure-Rust CPU) when the `flex`
/// feature is on.
#[cfg(feature = "flex")]
pub fn default_device() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

/// The default device of the compiled-in backends: libtorch on the CPU when the `tch` feature
/// is on and `flex` is off (as in `scripts/check-backends.sh`).
#[cfg(all(feature = "tch", not(feature = "flex")))]
#[cfg_attr(feature = "tch", allow(deprecated))] // burn-tch is deprecated in Burn 0.22
pub fn default_device() -> burn::tensor::Device {
    burn::tensor::Device::libtorch()
}

/// The default device of the compiled-in backends: the first CUDA GPU when only `cuda` is on.
/// Untested: the CUDA build downloads an LLVM bundle, which the project's machines cannot.
#[cfg(all(feature = "cuda", not(feature = "flex"), not(feature = "tch")))]
pub fn default_device() -> burn::tensor::Device {
    burn::tensor::Device::cuda(0)
}
