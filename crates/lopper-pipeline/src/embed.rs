//! Sentence embeddings from a checkpoint, one of its sub-networks, or a pruned model (what
//! `lopper embed` prints).

use std::path::PathBuf;

use burn::tensor::Device;
use lopper_core::{Arch, Subnet};
use lopper_data::TextTokenizer;
use lopper_model::{
    Batch, Mode, Model, ModelError, Pooling, l2_normalize, pool, resolve_model,
    sentence_transformers_defaults,
};

use crate::{PipelineError, Result};

/// Embeds sentences with one network: pooled token states, L2-normalised or not, as the
/// model's sentence-transformers files say unless told otherwise.
pub struct Embedder {
    dir: PathBuf,
    model: Model,
    subnet: Subnet,
    tokenizer: TextTokenizer,
    pooling: Pooling,
    normalize: bool,
    device: Device,
}

impl Embedder {
    /// Loads `model` (a folder or a hub id), inputs truncated to `max_len` tokens; the whole
    /// network, pooled and normalised as its sentence-transformers files say (else the first
    /// token's state, not normalised).
    pub fn load(model: &str, max_len: usize) -> Result<Self> {
        if max_len < 2 {
            return Err(PipelineError::setting("max_len", "at least 2"));
        }
        let dir = resolve_model(model, None)?;
        let device = lopper_model::default_device();
        let (model, _) = Model::load(&dir, &device, 0)?;
        let tokenizer = TextTokenizer::from_dir(&dir, max_len)?;
        let (pooling, normalize) =
            sentence_transformers_defaults(&dir).unwrap_or((Pooling::Cls, false));
        let subnet = model.network().whole();
        Ok(Self {
            dir,
            model,
            subnet,
            tokenizer,
            pooling,
            normalize,
            device,
        })
    }

    /// The shape sub-networks of the model are drawn from; `None` for a pruned model, which
    /// runs whole.
    pub fn arch(&self) -> Option<Arch> {
        match &self.model {
            Model::Super(net) => Some(net.arch()),
            Model::Pruned(_) => None,
        }
    }

    /// Runs `subnet` of the checkpoint (sliced) instead of the whole network.
    pub fn with_subnet(mut self, subnet: Subnet) -> Result<Self> {
        match &self.model {
            Model::Super(net) => subnet.validate(&net.arch()).map_err(ModelError::from)?,
            Model::Pruned(_) => return Err(PipelineError::Exported { dir: self.dir }),
        }
        self.subnet = subnet;
        Ok(self)
    }

    /// Pools the token states this way.
    pub fn with_pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// L2-normalises the embeddings, or not.
    pub fn with_normalize(mut self, normalize: bool) -> Self {
        self.normalize = normalize;
        self
    }

    /// One embedding per sentence, `batch_size` sentences per forward pass.
    pub fn embed(&self, sentences: &[&str], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        if batch_size == 0 {
            return Err(PipelineError::setting("batch_size", "at least 1"));
        }
        let net = self.model.network();
        let mut out = Vec::with_capacity(sentences.len());
        for chunk in sentences.chunks(batch_size) {
            let encoded = chunk
                .iter()
                .map(|s| self.tokenizer.encode(s, None))
                .collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<Vec<u32>> = encoded.iter().map(|e| e.ids.clone()).collect();
            let types: Vec<Vec<u32>> = encoded.iter().map(|e| e.type_ids.clone()).collect();
            let batch = Batch::new(&ids, Some(&types), None, net.config(), &self.device)?;
            let output = net.forward(&batch, &self.subnet, Mode::Sliced)?;
            let mut pooled = pool(
                output.last_hidden_state,
                batch.attention_mask.clone(),
                self.pooling,
            );
            if self.normalize {
                pooled = l2_normalize(pooled);
            }
            let [rows, width] = pooled.dims();
            let values: Vec<f32> =
                pooled
                    .into_data()
                    .try_to_vec()
                    .map_err(|e| ModelError::Data {
                        what: "the embeddings".into(),
                        source: e,
                    })?;
            out.extend((0..rows).map(|r| values[r * width..(r + 1) * width].to_vec()));
        }
        Ok(out)
    }
}
