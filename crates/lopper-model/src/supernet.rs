//! The encoder as a weight-sharing super-network: load a checkpoint, run any [`Subnet`] masked
//! or sliced, extract a dense pruned model.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use lopper_core::{Arch, LayerKeep, SeededRng, Subnet, seeded_rng};
use rand::RngExt;

use crate::modules::{
    Attention, Dense, Embeddings, FeedForward, HeadPlan, Layer, Norm, Selection, UnitPlan,
};
use crate::weights::WeightFiles;
use crate::{Batch, EncoderConfig, Family, HeadKind, LayerShape, ModelError, Result};

/// How a sub-network is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only kept heads and units are computed (what training and search use).
    Sliced,
    /// Everything is computed and unkept heads and units are multiplied by zero (the paper's
    /// reference semantics; as slow as the full network).
    Masked,
}

/// The task head's weights.
#[derive(Module, Debug)]
pub struct Classifier {
    /// RoBERTa's hidden projection (with tanh) on the first token; BERT has none (it uses the
    /// pooler).
    pub dense: Option<Dense>,
    /// `hidden → labels` (`hidden → 1` for multiple choice).
    pub out: Dense,
}

/// All parameters of the network (a Burn module).
#[derive(Module, Debug)]
pub struct EncoderWeights {
    /// Embeddings.
    pub embeddings: Embeddings,
    /// Layers (an exported model holds only the kept ones).
    pub layers: Vec<Layer>,
    /// BERT's pooler (`tanh(W·h₀ + b)`), if the checkpoint has one.
    pub pooler: Option<Dense>,
    /// The task head, if any.
    pub classifier: Option<Classifier>,
}

/// What the encoder returns.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// `[batch, seq, hidden]`.
    pub last_hidden_state: Tensor<3>,
    /// BERT's pooler output `[batch, hidden]`, when the model has a pooler.
    pub pooler_output: Option<Tensor<2>>,
    /// Task logits `[batch, labels]` (`[batch, 1]` for a multiple-choice head: reshape by the
    /// number of choices), when the model has a head.
    pub logits: Option<Tensor<2>>,
}

/// What loading a checkpoint did beyond reading tensors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Tensors the checkpoint lacked and that were initialised (seeded), e.g. a fresh
    /// classification head.
    pub initialized: Vec<String>,
}

/// A BERT or RoBERTa encoder whose sub-networks share its weights.
#[derive(Debug)]
pub struct SuperNet {
    config: EncoderConfig,
    weights: EncoderWeights,
    device: Device,
}

/// Where the encoder's tensors live under a checkpoint's prefix.
fn prefixes(family: Family) -> [&'static str; 1] {
    match family {
        Family::Bert => ["bert."],
        Family::Roberta => ["roberta."],
    }
}

/// Reads tensors in PyTorch layout and builds parameters in Burn's.
struct Loader<'a> {
    files: &'a WeightFiles,
    prefixes: [&'static str; 1],
    device: &'a Device,
    rng: SeededRng,
    report: LoadReport,
}

impl Loader<'_> {
    fn vector(&mut self, name: &str, len: usize) -> Result<Param<Tensor<1>>> {
        let v = self.files.read(name, &self.prefixes, &[len])?;
        Ok(Param::from_data(TensorData::new(v, [len]), self.device))
    }

    fn matrix(&mut self, name: &str, rows: usize, cols: usize) -> Result<Param<Tensor<2>>> {
        let v = self.files.read(name, &self.prefixes, &[rows, cols])?;
        Ok(Param::from_data(
            TensorData::new(v, [rows, cols]),
            self.device,
        ))
    }

    /// A PyTorch `Linear` (`weight [out, in]`) as a [`Dense`] (`[in, out]`).
    fn dense(&mut self, name: &str, input: usize, output: usize) -> Result<Dense> {
        let w = self
            .files
            .read(&format!("{name}.weight"), &self.prefixes, &[output, input])?;
        let b = self.vector(&format!("{name}.bias"), output)?;
        Ok(Dense {
            weight: Param::from_data(
                TensorData::new(transpose(&w, output, input), [input, output]),
                self.device,
            ),
            bias: b,
        })
    }

    fn norm(&mut self, name: &str, len: usize) -> Result<Norm> {
        Ok(Norm {
            gamma: self.vector(&format!("{name}.weight"), len)?,
            beta: self.vector(&format!("{name}.bias"), len)?,
        })
    }

    /// A dense layer that the checkpoint may lack: read it, or initialise it as Hugging Face
    /// does (normal with standard deviation 0.02, zero bias) and report it.
    fn dense_or_init(&mut self, name: &str, input: usize, output: usize) -> Result<Dense> {
        if self
            .files
            .contains(&format!("{name}.weight"), &self.prefixes)
        {
            return self.dense(name, input, output);
        }
        self.report.initialized.push(format!("{name}.weight"));
        self.report.initialized.push(format!("{name}.bias"));
        Ok(random_dense(&mut self.rng, input, output, self.device))
    }
}

/// `m` (`rows × cols`, row-major) transposed.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

/// Normal(0, 0.02) weights and a zero bias, seeded.
fn random_dense(rng: &mut SeededRng, input: usize, output: usize, device: &Device) -> Dense {
    let w = normal_vec(rng, input * output, 0.02);
    Dense {
        weight: Param::from_data(TensorData::new(w, [input, output]), device),
        bias: Param::from_data(TensorData::new(vec![0f32; output], [output]), device),
    }
}

fn normal_vec(rng: &mut SeededRng, n: usize, std: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            // Box–Muller.
            let u: f64 = 1.0 - rng.random::<f64>();
            let v: f64 = rng.random();
            (std * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect()
}

impl SuperNet {
    /// Loads a checkpoint folder in the Hugging Face layout (`config.json` and
    /// `model.safetensors`). A task head the checkpoint lacks is initialised from `seed` and
    /// listed in the report.
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
        let files = WeightFiles::open(dir)?;
        let mut l = Loader {
            files: &files,
            prefixes: prefixes(config.family),
            device,
            rng: seeded_rng(seed),
            report: LoadReport::default(),
        };
        let (d, dh) = (config.hidden_size, config.head_dim());
        let embeddings = Embeddings {
            word: l.matrix("embeddings.word_embeddings.weight", config.vocab_size, d)?,
            position: l.matrix(
                "embeddings.position_embeddings.weight",
                config.max_positions,
                d,
            )?,
            token_type: l.matrix(
                "embeddings.token_type_embeddings.weight",
                config.type_vocab_size,
                d,
            )?,
            norm: l.norm("embeddings.LayerNorm", d)?,
        };
        let mut layers = Vec::with_capacity(config.num_layers);
        for i in 0..config.num_layers {
            let (heads, units) = match config.layers.as_ref().and_then(|ls| ls.get(i)) {
                Some(Some(shape)) => (shape.heads.len(), shape.units.len()),
                Some(None) => (0, 0),
                None => (config.num_heads, config.intermediate_size),
            };
            let p = format!("encoder.layer.{i}");
            let attention = if heads > 0 {
                Some(Attention {
                    query: l.dense(&format!("{p}.attention.self.query"), d, heads * dh)?,
                    key: l.dense(&format!("{p}.attention.self.key"), d, heads * dh)?,
                    value: l.dense(&format!("{p}.attention.self.value"), d, heads * dh)?,
                    output: l.dense(&format!("{p}.attention.output.dense"), heads * dh, d)?,
                    norm: l.norm(&format!("{p}.attention.output.LayerNorm"), d)?,
                })
            } else {
                None
            };
            let ffn = if units > 0 {
                Some(FeedForward {
                    intermediate: l.dense(&format!("{p}.intermediate.dense"), d, units)?,
                    output: l.dense(&format!("{p}.output.dense"), units, d)?,
                    norm: l.norm(&format!("{p}.output.LayerNorm"), d)?,
                })
            } else {
                None
            };
            layers.push(Layer { attention, ffn });
        }
        let pooler =
            if files.contains("pooler.dense.weight", &l.prefixes) || config.head_uses_pooler() {
                Some(l.dense_or_init("pooler.dense", d, d)?)
            } else {
                None
            };
        let out = config.head_outputs();
        let classifier = match (config.head, config.classifier_has_dense()) {
            (HeadKind::None, _) => None,
            (_, false) => Some(Classifier {
                dense: None,
                out: l.dense_or_init("classifier", d, out)?,
            }),
            (_, true) => Some(Classifier {
                dense: Some(l.dense_or_init("classifier.dense", d, d)?),
                out: l.dense_or_init("classifier.out_proj", d, out)?,
            }),
        };
        let report = l.report;
        let weights = EncoderWeights {
            embeddings,
            layers,
            pooler,
            classifier,
        };
        Ok((
            Self {
                config,
                weights,
                device: device.clone(),
            },
            report,
        ))
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
            config,
            weights,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The shape sub-networks are drawn from.
    pub fn arch(&self) -> Arch {
        self.config.arch()
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A copy on the device without autodiff (the same parameters, no gradient tracking): for
    /// evaluating a network that is being trained.
    pub fn valid(&self) -> SuperNet {
        SuperNet {
            config: self.config.clone(),
            weights: self.weights.valid(),
            device: self.device.clone().inner(),
        }
    }

    /// The parameters, as a Burn module (for optimizers and autodiff).
    pub fn weights(&self) -> &EncoderWeights {
        &self.weights
    }

    /// Replaces the parameters (after an optimizer step).
    pub fn set_weights(&mut self, weights: EncoderWeights) {
        self.weights = weights;
    }

    /// Runs the whole network (every block the model holds; for an exported model, its
    /// pruned shape).
    pub fn forward_full(&self, batch: &Batch) -> Result<EncoderOutput> {
        let plans: Vec<Option<(Option<HeadPlan>, Option<UnitPlan>)>> = self
            .weights
            .layers
            .iter()
            .map(|l| {
                Some((
                    l.attention
                        .as_ref()
                        .map(|_| HeadPlan::Slice(Selection::All)),
                    l.ffn.as_ref().map(|_| UnitPlan::Slice(Selection::All)),
                ))
            })
            .collect();
        self.run(batch, &plans)
    }

    /// Runs `subnet` sliced; an exported model (see [`SuperNet::extract`]) runs whole, and then
    /// `subnet` must be the whole of it (`Subnet::full(&net.arch())`). What scoring and timing
    /// call, so that they take super-networks and exported models alike.
    pub fn forward_subnet(&self, batch: &Batch, subnet: &Subnet) -> Result<EncoderOutput> {
        if self.config.layers.is_some() {
            if *subnet != Subnet::full(&self.arch()) {
                return Err(ModelError::Input(
                    "an exported model runs whole: it has no sub-networks to select".into(),
                ));
            }
            return self.forward_full(batch);
        }
        self.forward(batch, subnet, Mode::Sliced)
    }

    /// Runs sub-network `subnet` of this super-network, sliced or masked.
    pub fn forward(&self, batch: &Batch, subnet: &Subnet, mode: Mode) -> Result<EncoderOutput> {
        if self.config.layers.is_some() {
            return Err(ModelError::Input(
                "an exported (pruned) model runs whole: use forward_full".into(),
            ));
        }
        subnet.validate(&self.arch())?;
        let plans: Vec<_> = subnet
            .layers()
            .iter()
            .map(|keep| keep.as_ref().map(|k| self.plan(k, mode)))
            .collect();
        self.run(batch, &plans)
    }

    fn plan(&self, keep: &LayerKeep, mode: Mode) -> (Option<HeadPlan>, Option<UnitPlan>) {
        let (h, n, dh) = (
            self.config.num_heads,
            self.config.intermediate_size,
            self.config.head_dim(),
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
        Tensor::from_data(TensorData::new(m, [n]), &self.device)
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
                &self.device,
            )),
            n,
        )
    }

    /// The embedded batch, `[batch, seq, hidden]`, and the additive attention mask every layer
    /// takes, `[batch, 1, 1, seq]`: 0 for tokens, the most negative float for padding.
    pub(crate) fn embed(&self, batch: &Batch) -> (Tensor<3>, Tensor<4>) {
        let x = self.weights.embeddings.forward(
            batch.input_ids.clone(),
            batch.position_ids.clone(),
            batch.token_type_ids.clone(),
            self.config.layer_norm_eps,
        );
        let [b, s] = batch.dims();
        let mask = (batch.attention_mask.clone().neg() + 1.0).reshape([b, 1, 1, s]) * f32::MIN;
        (x, mask)
    }

    fn run(
        &self,
        batch: &Batch,
        plans: &[Option<(Option<HeadPlan>, Option<UnitPlan>)>],
    ) -> Result<EncoderOutput> {
        let eps = self.config.layer_norm_eps;
        let dh = self.config.head_dim();
        let w = &self.weights;
        let [b, _] = batch.dims();
        let (mut x, mask) = self.embed(batch);
        for (layer, plan) in w.layers.iter().zip(plans) {
            let Some((heads, units)) = plan else { continue };
            if let (Some(att), Some(plan)) = (&layer.attention, heads) {
                x = att.forward(x, mask.clone(), plan, dh, eps);
            }
            if let (Some(ffn), Some(plan)) = (&layer.ffn, units) {
                x = ffn.forward(x, plan, eps);
            }
        }
        let first = x
            .clone()
            .narrow(1, 0, 1)
            .reshape([b, self.config.hidden_size]);
        let pooler_output = w.pooler.as_ref().map(|p| p.forward(first.clone()).tanh());
        let logits = match &w.classifier {
            None => None,
            Some(c) => {
                let features = match (&c.dense, &pooler_output) {
                    (Some(dense), _) => dense.forward(first).tanh(),
                    (None, Some(pooled)) => pooled.clone(),
                    (None, None) => first,
                };
                Some(c.out.forward(features))
            }
        };
        Ok(EncoderOutput {
            last_hidden_state: x,
            pooler_output,
            logits,
        })
    }

    /// The dense model of `subnet`: kept heads and units only, dropped layers (and blocks left
    /// with nothing) removed. Its [`SuperNet::forward_full`] equals this network's sliced
    /// forward of `subnet`.
    pub fn extract(&self, subnet: &Subnet) -> Result<SuperNet> {
        if self.config.layers.is_some() {
            return Err(ModelError::Input(
                "the model is already an extracted one".into(),
            ));
        }
        subnet.validate(&self.arch())?;
        let dh = self.config.head_dim();
        let mut layers = Vec::new();
        let mut shapes = Vec::new();
        for (layer, keep) in self.weights.layers.iter().zip(subnet.layers()) {
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
            shapes.push(Some(LayerShape {
                heads: keep.heads.clone(),
                units: keep.units.clone(),
            }));
        }
        let mut config = self.config.clone();
        config.num_layers = layers.len();
        config.layers = Some(shapes);
        let w = &self.weights;
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
        Ok(SuperNet {
            config,
            weights,
            device: self.device.clone(),
        })
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
