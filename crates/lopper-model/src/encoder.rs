//! What the super-network and a pruned model share: the weights of a BERT or RoBERTa encoder,
//! read from a checkpoint, and the forward pass over a plan of which heads and units each layer
//! computes.

use std::path::Path;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use lopper_core::{SeededRng, seeded_rng};
use rand::RngExt;

use crate::modules::{
    Attention, Dense, Embeddings, FeedForward, HeadPlan, Layer, Norm, Selection, UnitPlan,
};
use crate::weights::WeightFiles;
use crate::{Batch, EncoderConfig, Family, HeadKind, LayerShape, Result};

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
    /// Draws the tensors the checkpoint lacks; `None` when every tensor must be there (a
    /// pruned model is never completed with fresh weights).
    rng: Option<SeededRng>,
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

    /// The leading `input.0 × output.0` part of a `Linear` stored as `input.1 × output.1`
    /// (a `hf` export's FFN, zero-padded to the widest layer). The rest must be zero: it is
    /// what makes the padded model compute what the narrow one does.
    fn dense_part(
        &mut self,
        name: &str,
        input: (usize, usize),
        output: (usize, usize),
    ) -> Result<Dense> {
        if input.0 == input.1 && output.0 == output.1 {
            return self.dense(name, input.0, output.0);
        }
        let weight = format!("{name}.weight");
        let w = self
            .files
            .read(&weight, &self.prefixes, &[output.1, input.1])?;
        let bias = format!("{name}.bias");
        let b = self.files.read(&bias, &self.prefixes, &[output.1])?;
        let mut kept = Vec::with_capacity(output.0 * input.0);
        let mut padding_is_zero = b[output.0..].iter().all(|&v| v == 0.0);
        for (r, row) in w.chunks_exact(input.1).enumerate() {
            if r < output.0 {
                kept.extend_from_slice(&row[..input.0]);
                padding_is_zero &= row[input.0..].iter().all(|&v| v == 0.0);
            } else {
                padding_is_zero &= row.iter().all(|&v| v == 0.0);
            }
        }
        if !padding_is_zero {
            return Err(crate::ModelError::Padding { tensor: weight });
        }
        Ok(Dense {
            weight: Param::from_data(
                TensorData::new(transpose(&kept, output.0, input.0), [input.0, output.0]),
                self.device,
            ),
            bias: Param::from_data(
                TensorData::new(b[..output.0].to_vec(), [output.0]),
                self.device,
            ),
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
        let Some(rng) = self.rng.as_mut() else {
            // Not to be drawn: reading it reports what is missing.
            return self.dense(name, input, output);
        };
        self.report.initialized.push(format!("{name}.weight"));
        self.report.initialized.push(format!("{name}.bias"));
        Ok(random_dense(rng, input, output, self.device))
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
pub(crate) fn random_dense(
    rng: &mut SeededRng,
    input: usize,
    output: usize,
    device: &Device,
) -> Dense {
    let w = normal_vec(rng, input * output, 0.02);
    Dense {
        weight: Param::from_data(TensorData::new(w, [input, output]), device),
        bias: Param::from_data(TensorData::new(vec![0f32; output], [output]), device),
    }
}

/// `n` draws of Normal(0, `std`), seeded.
///
/// Written by hand (Box–Muller) rather than drawn with `rand_distr::Normal`, on purpose: this
/// draw is the seeded initial task head of every fine-tuning run, so changing the sampler
/// changes every recorded run's head, training and front for the same seed (`rand_distr`'s
/// ziggurat gives other values; it has no Box–Muller). Tried: with it, the demo's front on the
/// same seed is another one.
pub(crate) fn normal_vec(rng: &mut SeededRng, n: usize, std: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u: f64 = 1.0 - rng.random::<f64>();
            let v: f64 = rng.random();
            (std * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect()
}

/// The parameters of a network, its configuration and its device: the state both
/// [`SuperNet`](crate::SuperNet) and [`PrunedNet`](crate::PrunedNet) hold.
#[derive(Debug)]
pub(crate) struct Encoder {
    pub(crate) config: EncoderConfig,
    pub(crate) weights: EncoderWeights,
    pub(crate) device: Device,
}

/// What one layer computes: its attention heads and its FFN units, or nothing.
pub(crate) type LayerPlan = Option<(Option<HeadPlan>, Option<UnitPlan>)>;

impl Encoder {
    /// Reads the weights of `dir` for `config`. `shapes`: the kept heads and units of each
    /// layer of a pruned export, and the width its FFN tensors are zero-padded to, if they are
    /// (`None`: every layer whole). `seed`: draws the task head or pooler the checkpoint lacks
    /// (`None`: a missing tensor is an error).
    pub(crate) fn load(
        dir: &Path,
        config: EncoderConfig,
        shapes: Option<(&[LayerShape], Option<usize>)>,
        device: &Device,
        seed: Option<u64>,
    ) -> Result<(Self, LoadReport)> {
        let files = WeightFiles::open(dir)?;
        let mut l = Loader {
            files: &files,
            prefixes: prefixes(config.family),
            device,
            rng: seed.map(seeded_rng),
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
        let padded = shapes.and_then(|(_, p)| p);
        for i in 0..config.num_layers {
            let (heads, units) = match shapes.and_then(|(s, _)| s.get(i)) {
                Some(shape) => (shape.heads.len(), shape.units.len()),
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
                let stored = padded.unwrap_or(units);
                Some(FeedForward {
                    intermediate: l.dense_part(
                        &format!("{p}.intermediate.dense"),
                        (d, d),
                        (units, stored),
                    )?,
                    output: l.dense_part(&format!("{p}.output.dense"), (units, stored), (d, d))?,
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

    /// Every block the weights hold, computed whole.
    pub(crate) fn forward_full(&self, batch: &Batch) -> EncoderOutput {
        let plans: Vec<LayerPlan> = self
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

    /// The forward pass: embeddings, each layer as its plan says, pooler and head.
    pub(crate) fn run(&self, batch: &Batch, plans: &[LayerPlan]) -> EncoderOutput {
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
        EncoderOutput {
            last_hidden_state: x,
            pooler_output,
            logits,
        }
    }
}
