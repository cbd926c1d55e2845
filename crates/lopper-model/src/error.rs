//! The error type of `lopper-model`.

use std::path::PathBuf;

use lopper_core::CoreError;
use thiserror::Error;

/// Everything that can go wrong loading, running or exporting an encoder.
#[derive(Debug, Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// `config.json` (or a shard index) is not the JSON it should be.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// `config.json` has a bad value or describes an unsupported model.
    #[error("{path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A pruned export where a super-network was asked for.
    #[error(
        "{path} is a pruned model exported by lopper (its config has `lopper_layers`): it runs \
         whole and cannot be trained, searched or pruned again; load it as a PrunedNet \
         (or train and search the super-network it came from)"
    )]
    Pruned {
        /// The config file.
        path: PathBuf,
    },
    /// Something this build cannot do.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A zero-padded tensor of a `hf` export whose padding is not zero.
    #[error(
        "{tensor}: the rows and columns beyond the layer's own width are not zero, so the padded \
         model would not compute what its layer does"
    )]
    Padding {
        /// The tensor's name.
        tensor: String,
    },
    /// A sub-network that a standard (transformers) BERT cannot express.
    #[error(
        "layer {layer} keeps {what} but no {missing}: lopper skips such a block, transformers \
         would still run its residual and LayerNorm; export it with --format onnx or --format \
         lopper"
    )]
    HfInexpressible {
        /// The layer (among the kept ones).
        layer: usize,
        /// What it keeps.
        what: &'static str,
        /// What it lacks.
        missing: &'static str,
    },
    /// A sub-network asked of a pruned model, which has none but itself.
    #[error("a pruned model runs whole: it has no sub-networks to select")]
    RunsWhole,
    /// A weight file is not a readable safetensors file.
    #[error("{path}: not a readable safetensors file: {source}")]
    Safetensors {
        /// The weight file.
        path: PathBuf,
        /// What the reader said.
        source: safetensors::SafeTensorError,
    },
    /// A model's weights could not be written as safetensors.
    #[error("{path}: cannot write the weights: {source}")]
    SafetensorsWrite {
        /// The weight file.
        path: PathBuf,
        /// What the writer said.
        source: safetensors::SafeTensorError,
    },
    /// A PyTorch checkpoint (`pytorch_model.bin`) could not be read.
    #[error("{path}: not a readable PyTorch checkpoint: {source}")]
    Pytorch {
        /// The checkpoint.
        path: PathBuf,
        /// What the reader said (boxed: it is large).
        source: Box<pytorch_reader::PytorchError>,
    },
    /// A tensor the model needs is not in the checkpoint.
    #[error("tensor `{name}` is missing from {path} (looked for: {tried})")]
    MissingTensor {
        /// The tensor (without prefix).
        name: String,
        /// The weight file(s).
        path: PathBuf,
        /// Every name tried (prefixes, legacy names).
        tried: String,
    },
    /// A tensor has another shape than the config implies.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The tensor.
        name: String,
        /// What the config implies.
        expected: Vec<usize>,
        /// What the file holds.
        found: Vec<usize>,
    },
    /// A tensor of a type the loader does not convert.
    #[error("tensor `{name}` has dtype {dtype}; F32, F16 and BF16 are supported")]
    DType {
        /// The tensor.
        name: String,
        /// Its type.
        dtype: String,
    },
    /// A tensor's values could not be read back from the device.
    #[error("cannot read {what} back from the device: {source}")]
    Data {
        /// Which tensor.
        what: String,
        /// What the backend said.
        source: burn::tensor::DataError,
    },
    /// Neither a model folder nor a hub id.
    #[error("`{spec}` is neither a model folder nor a hub id of the form org/name")]
    NotAModel {
        /// What was given.
        spec: String,
    },
    /// The Hugging Face hub could not give a model's file.
    #[error(
        "cannot fetch `{id}` from the Hugging Face hub{}: {source} (offline? pass a local model folder instead)",
        file.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
    )]
    Hub {
        /// The model id.
        id: String,
        /// The file being fetched, if any.
        file: Option<String>,
        /// What the hub client said (boxed: it is large).
        source: Box<hf_hub::api::sync::ApiError>,
    },
    /// The hub gave no files for a model.
    #[error("the Hugging Face hub gave no files for `{id}`")]
    HubEmpty {
        /// The model id.
        id: String,
    },
    /// A sub-network that does not fit the model, or another vocabulary error.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// Inputs of the wrong shape or content (a batch, a rewiring), described.
    #[error("bad input: {0}")]
    Input(String),
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn data(what: impl Into<String>, source: burn::tensor::DataError) -> Self {
        ModelError::Data {
            what: what.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
