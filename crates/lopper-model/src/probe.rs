//! The encoder one block at a time, split into what each head and FFN unit adds to the
//! residual stream: what Kwon et al.'s mask tuning ("A Fast Post-Training Pruning Framework for
//! Transformers", 2022) solves its least-squares problems over, and the folding of the scale
//! factors it finds into the weights.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use lopper_kernels::gelu;

use crate::modules::Dense;
use crate::{Batch, ModelError, Result, SuperNet};

/// A layer's attention block on some input, head by head.
#[derive(Debug, Clone)]
pub struct AttentionParts {
    /// `[batch, heads, seq, hidden]`: what each head adds to the residual stream (its context
    /// through its rows of the output projection), before the output bias.
    pub heads: Tensor<4>,
    /// `[hidden]`: the output projection's bias.
    pub bias: Tensor<1>,
}

impl AttentionParts {
    /// `x + Σ_h scale_h · heads_h + bias`: the block's output before its LayerNorm, with head
    /// `h` scaled by `scales[h]` (1 everywhere: the block as it is; 0: the head removed).
    pub fn residual(&self, x: Tensor<3>, scales: &[f32]) -> Tensor<3> {
        let [b, h, s, d] = self.heads.dims();
        let m = Tensor::<1>::from_data(TensorData::new(scales.to_vec(), [h]), &self.heads.device())
            .reshape([1, h, 1, 1]);
        let sum = (self.heads.clone() * m).sum_dim(1).reshape([b, s, d]);
        x + sum + self.bias.clone().reshape([1, 1, d])
    }
}

/// A layer's feed-forward block on some input, unit by unit.
#[derive(Debug, Clone)]
pub struct FfnParts {
    /// `[batch, seq, units]`: every unit's GELU activation.
    pub activations: Tensor<3>,
    /// `[units, hidden]`: each unit's row of the output projection (what one unit of
    /// activation adds to the residual stream).
    pub rows: Tensor<2>,
    /// `[hidden]`: the output projection's bias.
    pub bias: Tensor<1>,
}

impl FfnParts {
    /// `y + Σ_u scale_u · a_u · rows_u + bias`: the block's output before its LayerNorm, with
    /// unit `u` scaled by `scales[u]`.
    pub fn residual(&self, y: Tensor<3>, scales: &[f32]) -> Tensor<3> {
        let [b, s, n] = self.activations.dims();
        let d = self.rows.dims()[1];
        let m = Tensor::<1>::from_data(
            TensorData::new(scales.to_vec(), [n]),
            &self.activations.device(),
        )
        .reshape([1, 1, n]);
        let a = (self.activations.clone() * m).reshape([b * s, n]);
        let out = a.matmul(self.rows.clone()).reshape([b, s, d]);
        y + out + self.bias.clone().reshape([1, 1, d])
    }
}

impl SuperNet {
    /// The first layer's input, `[batch, seq, hidden]`, and the additive attention mask every
    /// layer takes, `[batch, 1, 1, seq]`.
    pub fn embed_batch(&self, batch: &Batch) -> (Tensor<3>, Tensor<4>) {
        self.embed(batch)
    }

    /// Layer `layer`'s attention block on `x` (`[batch, seq, hidden]`), every head computed and
    /// kept apart.
    pub fn attention_parts(
        &self,
        layer: usize,
        x: Tensor<3>,
        mask: Tensor<4>,
    ) -> Result<AttentionParts> {
        let c = self.config();
        let att = self.attention_of(layer)?;
        let (h, dh, d) = (c.num_heads, c.head_dim(), c.hidden_size);
        let [b, s, _] = x.dims();
        let plan = crate::modules::HeadPlan::Slice(crate::modules::Selection::All);
        let (_, context) = att.forward_with_context(x, mask, &plan, dh, c.layer_norm_eps);
        // [b, h, s, dh] · [1, h, dh, d] → [b, h, s, d].
        let w = att.output.weight.val().reshape([1, h, dh, d]);
        let heads = context.matmul(w.expand([b, h, dh, d]));
        debug_assert_eq!(heads.dims(), [b, h, s, d]);
        Ok(AttentionParts {
            heads,
            bias: att.output.bias.val(),
        })
    }

    /// Layer `layer`'s attention LayerNorm applied to `residual` (what
    /// [`AttentionParts::residual`] gives): the feed-forward block's input.
    pub fn attention_norm(&self, layer: usize, residual: Tensor<3>) -> Result<Tensor<3>> {
        let att = self.attention_of(layer)?;
        Ok(att.norm.forward(residual, self.config().layer_norm_eps))
    }

    /// Layer `layer`'s feed-forward block on `y`, every unit kept apart.
    pub fn ffn_parts(&self, layer: usize, y: Tensor<3>) -> Result<FfnParts> {
        let ffn = self.ffn_of(layer)?;
        Ok(FfnParts {
            activations: gelu(ffn.intermediate.forward(y)),
            rows: ffn.output.weight.val(),
            bias: ffn.output.bias.val(),
        })
    }

    /// Layer `layer`'s feed-forward LayerNorm applied to `residual`: the next layer's input.
    pub fn ffn_norm(&self, layer: usize, residual: Tensor<3>) -> Result<Tensor<3>> {
        Ok(self
            .ffn_of(layer)?
            .norm
            .forward(residual, self.config().layer_norm_eps))
    }

    fn attention_of(&self, layer: usize) -> Result<&crate::Attention> {
        self.weights()
            .layers
            .get(layer)
            .and_then(|l| l.attention.as_ref())
            .ok_or_else(|| ModelError::Input(format!("layer {layer} has no attention block")))
    }

    fn ffn_of(&self, layer: usize) -> Result<&crate::FeedForward> {
        self.weights()
            .layers
            .get(layer)
            .and_then(|l| l.ffn.as_ref())
            .ok_or_else(|| ModelError::Input(format!("layer {layer} has no feed-forward block")))
    }

    /// A copy whose head `h` of layer `l` adds `heads[l][h]` times what it added, and whose
    /// FFN unit `u` adds `units[l][u]` times (its row of the output projection scaled): the
    /// copy's whole network computes what [`SuperNet::forward_with_masks`] computes with these
    /// masks. Mask tuning's scale factors, folded into the weights.
    pub fn with_scales(&self, heads: &[Vec<f32>], units: &[Vec<f32>]) -> Result<SuperNet> {
        let c = self.config();
        let (l, h, n, dh) = (c.num_layers, c.num_heads, c.intermediate_size, c.head_dim());
        let fits = |m: &[Vec<f32>], w: usize| m.len() == l && m.iter().all(|v| v.len() == w);
        if !fits(heads, h) || !fits(units, n) {
            return Err(ModelError::Input(format!(
                "scales for {l} layers of {h} heads and {n} units expected"
            )));
        }
        let device = self.device();
        let scale_rows = |dense: &Dense, per_row: Vec<f32>| -> Dense {
            let rows = per_row.len();
            let s =
                Tensor::<1>::from_data(TensorData::new(per_row, [rows]), device).reshape([rows, 1]);
            Dense {
                weight: Param::from_tensor(dense.weight.val().detach() * s),
                bias: Param::from_tensor(dense.bias.val().detach()),
            }
        };
        let mut weights = self.weights().clone();
        for (i, layer) in weights.layers.iter_mut().enumerate() {
            if let Some(att) = layer.attention.as_mut() {
                let per_row = heads[i]
                    .iter()
                    .flat_map(|&s| std::iter::repeat_n(s, dh))
                    .collect();
                att.output = scale_rows(&att.output, per_row);
            }
            if let Some(ffn) = layer.ffn.as_mut() {
                ffn.output = scale_rows(&ffn.output, units[i].clone());
            }
        }
        let mut copy = self.valid();
        copy.set_weights(weights.valid());
        Ok(copy)
    }
}
