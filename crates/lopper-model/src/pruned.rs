//! The dense model of one sub-network, and what scoring and timing take: any network that runs
//! a sub-network.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use lopper_core::Subnet;

use crate::config::{PrunedLayout, read_config};
use crate::encoder::Encoder;
use crate::{
    Batch, EncoderConfig, EncoderOutput, EncoderWeights, LayerShape, LoadReport, Mode, ModelError,
    Result, SuperNet,
};

/// A pruned model: the dense network of one sub-network, each kept layer at its own width,
/// dropped layers gone. It runs whole; it is what [`SuperNet::extract`] cuts out,
/// [`export`](crate::export()) writes and [`PrunedNet::load`] reads back.
#[derive(Debug)]
pub struct PrunedNet {
    enc: Encoder,
    layers: Vec<LayerShape>,
}

impl PrunedNet {
    pub(crate) fn from_parts(enc: Encoder, layers: Vec<LayerShape>) -> Self {
        Self { enc, layers }
    }

    /// Loads a pruned model exported by lopper, or any dense checkpoint (then every layer is
    /// whole). Nothing is drawn: a tensor the folder lacks, a task head included, is an error.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (config, layout) = read_config(&dir.join("config.json"))?;
        Self::load_shaped(dir, config, layout, device)
    }

    fn load_shaped(
        dir: &Path,
        config: EncoderConfig,
        layout: Option<PrunedLayout>,
        device: &Device,
    ) -> Result<Self> {
        let padded = layout.as_ref().and_then(|l| l.ffn_padded_to);
        let layers = layout.map(|l| l.shapes).unwrap_or_else(|| {
            (0..config.num_layers)
                .map(|_| LayerShape {
                    heads: (0..config.num_heads).collect(),
                    units: (0..config.intermediate_size).collect(),
                })
                .collect()
        });
        let (enc, _) = Encoder::load(dir, config, Some((&layers, padded)), device, None)?;
        Ok(Self { enc, layers })
    }

    /// The configuration: `num_layers` counts the kept layers, `num_heads` and
    /// `intermediate_size` are the original widths (each layer's own are [`PrunedNet::layers`]).
    pub fn config(&self) -> &EncoderConfig {
        &self.enc.config
    }

    /// Each kept layer's heads and FFN units, as indices into the original layer.
    pub fn layers(&self) -> &[LayerShape] {
        &self.layers
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.enc.device
    }

    /// The parameters, as a Burn module.
    pub fn weights(&self) -> &EncoderWeights {
        &self.enc.weights
    }

    /// How many parameters the model holds.
    pub fn params(&self) -> u64 {
        self.enc.weights.num_params() as u64
    }

    /// Runs the model.
    pub fn forward_full(&self, batch: &Batch) -> Result<EncoderOutput> {
        Ok(self.enc.forward_full(batch))
    }
}

/// Any network that runs sub-networks: a [`SuperNet`] runs every sub-network of its arch, a
/// [`PrunedNet`] only itself ([`Network::whole`]). What scoring, objectives and timing take, so
/// that they measure a super-network's sub-networks and an exported model alike.
pub trait Network: Sync {
    /// The configuration.
    fn config(&self) -> &EncoderConfig;

    /// The device the weights live on.
    fn device(&self) -> &Device;

    /// The sub-network that is the whole of this network.
    fn whole(&self) -> Subnet;

    /// Runs `subnet`, sliced or masked. A [`PrunedNet`] runs only [`Network::whole`] (the two
    /// modes agree there); any other sub-network is [`ModelError::RunsWhole`].
    fn forward(&self, batch: &Batch, subnet: &Subnet, mode: Mode) -> Result<EncoderOutput>;
}

impl Network for SuperNet {
    fn config(&self) -> &EncoderConfig {
        SuperNet::config(self)
    }

    fn device(&self) -> &Device {
        SuperNet::device(self)
    }

    fn whole(&self) -> Subnet {
        Subnet::full(&self.arch())
    }

    fn forward(&self, batch: &Batch, subnet: &Subnet, mode: Mode) -> Result<EncoderOutput> {
        SuperNet::forward(self, batch, subnet, mode)
    }
}

impl Network for PrunedNet {
    fn config(&self) -> &EncoderConfig {
        PrunedNet::config(self)
    }

    fn device(&self) -> &Device {
        PrunedNet::device(self)
    }

    fn whole(&self) -> Subnet {
        Subnet::full(&self.enc.config.arch())
    }

    fn forward(&self, batch: &Batch, subnet: &Subnet, _mode: Mode) -> Result<EncoderOutput> {
        if *subnet != self.whole() {
            return Err(ModelError::RunsWhole);
        }
        self.forward_full(batch)
    }
}

/// A checkpoint folder of either kind, told apart by its `config.json`: a pruned export
/// (it records `lopper_layers`) or a super-network's checkpoint (anything else).
#[derive(Debug)]
pub enum Model {
    /// A checkpoint to train, search or run sub-networks of.
    Super(SuperNet),
    /// A pruned model exported by lopper.
    Pruned(PrunedNet),
}

impl Model {
    /// Loads `dir` as what its config says it is. A super-network's missing task head is
    /// initialised from `seed` and listed in the report; a pruned model's is an error.
    pub fn load(dir: &Path, device: &Device, seed: u64) -> Result<(Self, LoadReport)> {
        match read_config(&dir.join("config.json"))? {
            (config, None) => {
                let (net, report) = SuperNet::load_with_config(dir, config, device, seed)?;
                Ok((Model::Super(net), report))
            }
            (config, Some(layout)) => Ok((
                Model::Pruned(PrunedNet::load_shaped(dir, config, Some(layout), device)?),
                LoadReport::default(),
            )),
        }
    }

    /// The network, for what takes either kind.
    pub fn network(&self) -> &dyn Network {
        match self {
            Model::Super(net) => net,
            Model::Pruned(net) => net,
        }
    }
}
