//! The encoder as a weight-sharing super-network: load a checkpoint, run any [`Subnet`] masked
//! or sliced, extract a dense pruned model.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use lopper_core::{Arch, LayerKeep, SeededRng, Subnet, seeded_rng};

use crate::encoder::{Encoder, LayerPlan, normal_vec, random_dense};
use crate::modules::{
    Attention, Dense, Embeddings, FeedForward, HeadPlan, Layer, Norm, Selection, UnitPlan,
};
use crate::{
    Batch, Classifier, EncoderConfig, EncoderOutput, EncoderWeights, Family, HeadKind, LayerShape,
    LoadReport, Mode, ModelError, PrunedNet, Result,
};

/// Per-layer multipliers of each head's context and each FFN unit's activation, for
/// [`SuperNet::forward_with_masks`]: `heads[l]` is `[num_heads]`, `units[l]` is
/// `[intermediate_size]`.
#[derive(Debug, Clone)]
pub struct Masks {
    /// One `[num_heads]` tensor per layer.
    pub heads: Vec<Tensor<1>>,
    /// One `[intermediate_size]` tensor per layer.
    pub units: Vec<Tensor<1>>,
}

impl Masks {
    /// Masks of the given values on `device` (`heads[l].len()` = heads, `units[l].len()` =
    /// units), each requiring gradients when `device` is an autodiff one and `grad` is set.
    pub fn from_values(
        heads: &[Vec<f32>],
        units: &[Vec<f32>],
        device: &Device,
        grad: bool,
    ) -> Self {
        let tensor = |v: &Vec<f32>| {
            let t = Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), device);
            if grad { t.require_grad() } else { t }
        };
        Self {
            heads: heads.iter().map(tensor).collect(),
            units: units.iter().map(tensor).collect(),
        }
    }
}

/// A BERT or RoBERTa encoder whose sub-networks share its weights: what training fine-tunes
/// and search explores. Every [`Subnet`] of its [`Arch`] runs on it, sliced or masked; one of
/// them cut out is a [`PrunedNet`] ([`SuperNet::extract`]).
#[derive(Debug)]
pub struct SuperNet {
    enc: Encoder,
}

impl SuperNet {
    /// Loads a checkpoint folder in the Hugging Face layout (`config.json` and
    /// `model.safetensors`). A task head the checkpoint lacks is initialised from `seed` and
    /// listed in the report. A pruned model exported by lopper is refused
    /// ([`ModelError::Pruned`](crate::ModelError::Pruned)): it is a [`PrunedNet`].
    pub fn load(dir: &Path, device: &Device, seed: u64) -> Result<(Self, LoadReport)> {
        let config = EncoderConfig::from_file(&dir.join("config.json"))?;
        Self::load_with_config(dir, config, device, seed)
    }

    /// Loads the weights of `dir` for `config` (e.g. a config given a task head).
    pub fn load_with_config(
        dir: &Path,
        config: EncoderConfig,
        device: &Device,
        seed: u64,
    ) -> Result<(Self, LoadReport)> {
        let (enc, report) = Encoder::load(dir, config, None, device, Some(seed))?;
        Ok((Self { enc }, report))
    }

    /// A randomly initialised network of `config` (Normal(0, 0.02) weights, unit LayerNorms),
    /// for tests and from-scratch experiments.
    pub fn random(config: EncoderConfig, device: &Device, seed: u64) -> Result<Self> {
        config.arch().validate()?;
        let mut rng = seeded_rng(seed);
        let (d, dh) = (config.hidden_size, config.head_dim());
        let matrix = |rows: usize, cols: usize, rng: &mut SeededRng| {
            Param::from_data(
                TensorData::new(normal_vec(rng, rows * cols, 0.02), [rows, cols]),
                device,
            )
        };
        let norm = |rng: &mut SeededRng| Norm {
            gamma: Param::from_data(
                TensorData::new(
                    normal_vec(rng, d, 0.1)
                        .iter()
                        .map(|x| 1.0 + x)
                        .collect::<Vec<f32>>(),
                    [d],
                ),
                device,
            ),
            beta: Param::from_data(TensorData::new(normal_vec(rng, d, 0.1), [d]), device),
        };
        let biased = |rng: &mut SeededRng, i: usize, o: usize| {
            let mut dense = random_dense(rng, i, o, device);
            dense.bias = Param::from_data(TensorData::new(normal_vec(rng, o, 0.02), [o]), device);
            dense
        };
        let embeddings = Embeddings {
            word: matrix(config.vocab_size, d, &mut rng),
            position: matrix(config.max_positions, d, &mut rng),
            token_type: matrix(config.type_vocab_size, d, &mut rng),
            norm: norm(&mut rng),
        };
        let (h, n) = (config.num_heads, config.intermediate_size);
        let layers = (0..config.num_layers)
            .map(|_| Layer {
                attention: Some(Attention {
                    query: biased(&mut rng, d, h * dh),
                    key: biased(&mut rng, d, h * dh),
                    value: biased(&mut rng, d, h * dh),
                    output: biased(&mut rng, h * dh, d),
                    norm: norm(&mut rng),
                }),
                ffn: Some(FeedForward {
                    intermediate: biased(&mut rng, d, n),
                    output: biased(&mut rng, n, d),
                    norm: norm(&mut rng),
                }),
            })
            .collect();
        let pooler = (config.family == Family::Bert || config.head_uses_pooler())
            .then(|| biased(&mut rng, d, d));
        let out = config.head_outputs();
        let classifier = (config.head != HeadKind::None).then(|| Classifier {
            dense: config
                .classifier_has_dense()
                .then(|| biased(&mut rng, d, d)),
            out: biased(&mut rng, d, out),
        });
        let weights = EncoderWeights {
            embeddings,
            layers,
            pooler,
            classifier,
        };
        Ok(Self {
            enc: Encoder {
                config,
                weights,
                device: device.clone(),
            },
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.enc.config
    }

    /// The shape sub-networks are drawn from.
    pub fn arch(&self) -> Arch {
        self.enc.config.arch()
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.enc.device
    }

    /// A copy on the device without autodiff (the same parameters, no gradient tracking): for
    /// evaluating a network that is being trained.
    pub fn valid(&self) -> SuperNet {
        SuperNet {
            enc: Encoder {
                config: self.enc.config.clone(),
                weights: self.enc.weights.valid(),
                device: self.enc.device.clone().inner(),
            },
        }
    }

    /// The parameters, as a Burn module (for optimizers and autodiff).
    pub fn weights(&self) -> &EncoderWeights {
        &self.enc.weights
    }

    /// Replaces the parameters (after an optimizer step).
    pub fn set_weights(&mut self, weights: EncoderWeights) {
        self.enc.weights = weights;
    }

    /// Runs the whole network.
    pub fn forward_full(&self, batch: &Batch) -> Result<EncoderOutput> {
        Ok(self.enc.forward_full(batch))
    }

    /// Runs sub-network `subnet` of this super-network, sliced or masked.
    pub fn forward(&self, batch: &Batch, subnet: &Subnet, mode: Mode) -> Result<EncoderOutput> {
        subnet.validate(&self.arch())?;
        let plans: Vec<LayerPlan> = subnet
            .layers()
            .iter()
            .map(|keep| keep.as_ref().map(|k| self.plan(k, mode)))
            .collect();
        Ok(self.enc.run(batch, &plans))
    }

    /// Runs the whole network with every head's context and every FFN unit's activation
    /// multiplied by `masks` (the masked mode with real-valued masks). On an autodiff device,
    /// with masks that require gradients, the gradients of a loss with respect to them are the
    /// importance scores of Michel et al. (head masks) and Kwon et al. (Fisher, heads and units).
    pub fn forward_with_masks(&self, batch: &Batch, masks: &Masks) -> Result<EncoderOutput> {
        let c = &self.enc.config;
        let (l, h, n) = (c.num_layers, c.num_heads, c.intermediate_size);
        let fits = |ts: &[Tensor<1>], width: usize| {
            ts.len() == l && ts.iter().all(|t| t.dims() == [width])
        };
        if !fits(&masks.heads, h) || !fits(&masks.units, n) {
            return Err(ModelError::Input(format!(
                "masks for {l} layers of {h} heads and {n} units expected"
            )));
        }
        let plans: Vec<LayerPlan> = masks
            .heads
            .iter()
            .zip(&masks.units)
            .map(|(hm, um)| {
                Some((
                    Some(HeadPlan::Mask(Box::new(hm.clone().reshape([1, h, 1, 1])))),
                    Some(UnitPlan::Mask(Box::new(um.clone()))),
                ))
            })
            .collect();
        Ok(self.enc.run(batch, &plans))
    }

    /// The embedded batch and the additive attention mask (see [`Encoder::embed`]).
    pub(crate) fn embed(&self, batch: &Batch) -> (Tensor<3>, Tensor<4>) {
        self.enc.embed(batch)
    }

    fn plan(&self, keep: &LayerKeep, mode: Mode) -> (Option<HeadPlan>, Option<UnitPlan>) {
        let (h, n, dh) = (
            self.enc.config.num_heads,
            self.enc.config.intermediate_size,
            self.enc.config.head_dim(),
        );
        let heads = if keep.heads.is_empty() {
            None
        } else if keep.heads.len() == h {
            Some(HeadPlan::Slice(Selection::All))
        } else {
            Some(match mode {
                Mode::Masked => {
                    HeadPlan::Mask(Box::new(self.mask(&keep.heads, h).reshape([1, h, 1, 1])))
                }
                Mode::Sliced => HeadPlan::Slice(self.selection(&keep.heads, dh)),
            })
        };
        let units = if keep.units.is_empty() {
            None
        } else if keep.units.len() == n {
            Some(UnitPlan::Slice(Selection::All))
        } else {
            Some(match mode {
                Mode::Masked => UnitPlan::Mask(Box::new(self.mask(&keep.units, n))),
                Mode::Sliced => UnitPlan::Slice(self.selection(&keep.units, 1)),
            })
        };
        (heads, units)
    }

    /// A 0/1 vector of length `n` with ones at `kept`.
    fn mask(&self, kept: &[usize], n: usize) -> Tensor<1> {
        let mut m = vec![0f32; n];
        for &i in kept {
            m[i] = 1.0;
        }
        Tensor::from_data(TensorData::new(m, [n]), &self.enc.device)
    }

    /// The columns of `kept` groups of `width`: a prefix when the groups are `0..k`.
    fn selection(&self, kept: &[usize], width: usize) -> Selection {
        if kept.iter().enumerate().all(|(i, &k)| i == k) {
            return Selection::Prefix(kept.len() * width);
        }
        let cols: Vec<i64> = kept
            .iter()
            .flat_map(|&k| (k * width..(k + 1) * width).map(|c| c as i64))
            .collect();
        let n = cols.len();
        Selection::Index(
            Box::new(Tensor::<1, Int>::from_data(
                TensorData::new(cols, [n]),
                &self.enc.device,
            )),
            n,
        )
    }

    /// The dense model of `subnet`: kept heads and units only, dropped layers (and blocks left
    /// with nothing) removed. Its [`PrunedNet::forward_full`] equals this network's sliced
    /// forward of `subnet`.
    pub fn extract(&self, subnet: &Subnet) -> Result<PrunedNet> {
        subnet.validate(&self.arch())?;
        let dh = self.enc.config.head_dim();
        let mut layers = Vec::new();
        let mut shapes = Vec::new();
        for (layer, keep) in self.enc.weights.layers.iter().zip(subnet.layers()) {
            let Some(keep) = keep else { continue };
            if keep.heads.is_empty() && keep.units.is_empty() {
                continue;
            }
            let attention = match (&layer.attention, keep.heads.is_empty()) {
                (Some(a), false) => {
                    let sel = self.selection(&keep.heads, dh);
                    Some(Attention {
                        query: slice_columns(&a.query, &sel),
                        key: slice_columns(&a.key, &sel),
                        value: slice_columns(&a.value, &sel),
                        output: slice_rows(&a.output, &sel),
                        norm: copy_norm(&a.norm),
                    })
                }
                _ => None,
            };
            let ffn = match (&layer.ffn, keep.units.is_empty()) {
                (Some(f), false) => {
                    let sel = self.selection(&keep.units, 1);
                    Some(FeedForward {
                        intermediate: slice_columns(&f.intermediate, &sel),
                        output: slice_rows(&f.output, &sel),
                        norm: copy_norm(&f.norm),
                    })
                }
                _ => None,
            };
            layers.push(Layer { attention, ffn });
            shapes.push(LayerShape {
                heads: keep.heads.clone(),
                units: keep.units.clone(),
            });
        }
        let mut config = self.enc.config.clone();
        config.num_layers = layers.len();
        let w = &self.enc.weights;
        let weights = EncoderWeights {
            embeddings: Embeddings {
                word: fresh(&w.embeddings.word),
                position: fresh(&w.embeddings.position),
                token_type: fresh(&w.embeddings.token_type),
                norm: copy_norm(&w.embeddings.norm),
            },
            layers,
            pooler: w.pooler.as_ref().map(|p| slice_columns(p, &Selection::All)),
            classifier: w.classifier.as_ref().map(|c| Classifier {
                dense: c.dense.as_ref().map(|d| slice_columns(d, &Selection::All)),
                out: slice_columns(&c.out, &Selection::All),
            }),
        };
        Ok(PrunedNet::from_parts(
            Encoder {
                config,
                weights,
                device: self.enc.device.clone(),
            },
            shapes,
        ))
    }
}

/// A new parameter holding a copy of `p`'s value (an extracted model shares nothing).
fn fresh<const D: usize>(p: &Param<Tensor<D>>) -> Param<Tensor<D>> {
    Param::from_tensor(p.val().detach())
}

fn copy_norm(n: &Norm) -> Norm {
    Norm {
        gamma: fresh(&n.gamma),
        beta: fresh(&n.beta),
    }
}

fn slice_columns(d: &Dense, sel: &Selection) -> Dense {
    Dense {
        weight: Param::from_tensor(sel.take(d.weight.val().detach(), 1)),
        bias: Param::from_tensor(sel.take(d.bias.val().detach(), 0)),
    }
}

fn slice_rows(d: &Dense, sel: &Selection) -> Dense {
    Dense {
        weight: Param::from_tensor(sel.take(d.weight.val().detach(), 0)),
        bias: fresh(&d.bias),
    }
}
