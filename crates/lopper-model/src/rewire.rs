//! Network rewiring: reorder every layer's heads and FFN units by importance, most important
//! first, before a super-network is trained.
//!
//! The search spaces that keep the first `k` heads and units of a layer (SMALL, MEDIUM) then
//! keep the ones that matter most, not the first ones a pre-trained checkpoint happens to
//! list. This is the "network rewiring" of DynaBERT (Hou et al., arXiv 2004.04037), with a
//! label-free importance, so that it can run before the task head has learnt anything: a
//! head's or unit's importance is the mean norm of what it adds to the residual stream over
//! the real (unpadded) tokens of a few batches of task data:
//!
//! - head `h`: `‖context_h · W_O[h]‖₂`, its slice of the attention output projection applied
//!   to its context vectors;
//! - unit `j`: `|GELU(a_j)| · ‖W_out[j, :]‖₂`, its activation times the norm of its output row.
//!
//! Permuting heads (their query, key and value columns with the output projection's rows)
//! and units (intermediate columns with output rows) leaves the full network's function
//! unchanged, so the rewired network computes what the checkpoint computed.

use burn::module::Param;
use burn::tensor::{Int, Tensor, TensorData};
use lopper_kernels::gelu;
use serde::{Deserialize, Serialize};

use crate::modules::{Dense, HeadPlan, Selection, UnitPlan};
use crate::{Batch, ModelError, Result, SuperNet};

/// Per layer, the importance of each head and each FFN unit (mean contribution norm per
/// token; see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// `heads[layer][head]`.
    pub heads: Vec<Vec<f64>>,
    /// `units[layer][unit]`.
    pub units: Vec<Vec<f64>>,
    /// Real tokens the means are taken over.
    pub tokens: usize,
}

/// A reordering of every layer's heads and units: position `i` of the rewired layer holds the
/// head (unit) that was at `heads[layer][i]` (`units[layer][i]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rewiring {
    /// `heads[layer]`: a permutation of `0..num_heads`.
    pub heads: Vec<Vec<usize>>,
    /// `units[layer]`: a permutation of `0..intermediate_size`.
    pub units: Vec<Vec<usize>>,
}

impl Importance {
    /// Most important first; ties keep the checkpoint's order.
    pub fn rewiring(&self) -> Rewiring {
        Rewiring {
            heads: self.heads.iter().map(|v| descending(v)).collect(),
            units: self.units.iter().map(|v| descending(v)).collect(),
        }
    }
}

/// The indices of `v` by decreasing value (NaN last), stable.
fn descending(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| {
        let key = |x: f64| if x.is_nan() { f64::NEG_INFINITY } else { x };
        key(v[b]).total_cmp(&key(v[a]))
    });
    idx
}

fn is_permutation(p: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    p.len() == n
        && p.iter()
            .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

fn values<const D: usize>(t: Tensor<D>, what: &str) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| ModelError::data(what, e))
}

impl SuperNet {
    /// The importance of every head and unit over `batches` of task data (the full network,
    /// no gradients). Needs at least one batch;
    /// the batches live on the device without autodiff (`net.valid().device()`), as for
    /// scoring.
    pub fn importance<'a>(
        &self,
        batches: impl IntoIterator<Item = &'a Batch>,
    ) -> Result<Importance> {
        let net = self.valid();
        let c = net.config();
        let (l, h, n, d, dh) = (
            c.num_layers,
            c.num_heads,
            c.intermediate_size,
            c.hidden_size,
            c.head_dim(),
        );
        let eps = c.layer_norm_eps;
        let mut heads = vec![vec![0f64; h]; l];
        let mut units = vec![vec![0f64; n]; l];
        let mut tokens = 0usize;
        let w = net.weights();
        for batch in batches {
            let [b, s] = batch.dims();
            let real = batch.attention_mask.clone().reshape([b * s]);
            tokens += values(real.clone().sum(), "the attention mask")?
                .first()
                .map_or(0, |&x| x.round() as usize);
            let (mut x, additive) = net.embed(batch);
            for (i, layer) in w.layers.iter().enumerate() {
                let (Some(att), Some(ffn)) = (&layer.attention, &layer.ffn) else {
                    return Err(ModelError::Input(format!(
                        "layer {i} has no attention or FFN block to rewire"
                    )));
                };
                let (out, context) = att.forward_with_context(
                    x,
                    additive.clone(),
                    &HeadPlan::Slice(Selection::All),
                    dh,
                    eps,
                );
                // [b, h, s, dh] → [h, b·s, dh] · [h, dh, d] → [h, b·s, d]
                let per_head = context
                    .swap_dims(0, 1)
                    .reshape([h, b * s, dh])
                    .matmul(att.output.weight.val().reshape([h, dh, d]));
                let norms = per_head
                    .powi_scalar(2)
                    .sum_dim(2)
                    .sqrt()
                    .reshape([h, b * s]);
                let sums = (norms * real.clone().reshape([1, b * s])).sum_dim(1);
                for (acc, v) in heads[i].iter_mut().zip(values(sums, "head importance")?) {
                    *acc += f64::from(v);
                }
                x = out;
                let act = gelu(ffn.intermediate.forward(x.clone()))
                    .abs()
                    .reshape([b * s, n])
                    * real.clone().reshape([b * s, 1]);
                let row_norms = ffn
                    .output
                    .weight
                    .val()
                    .powi_scalar(2)
                    .sum_dim(1)
                    .sqrt()
                    .reshape([n]);
                let sums = act.sum_dim(0).reshape([n]) * row_norms;
                for (acc, v) in units[i].iter_mut().zip(values(sums, "unit importance")?) {
                    *acc += f64::from(v);
                }
                x = ffn.forward(x, &UnitPlan::Slice(Selection::All), eps);
            }
        }
        if tokens == 0 {
            return Err(ModelError::Input(
                "importance needs at least one batch with a real token".into(),
            ));
        }
        let mean = |v: &mut Vec<Vec<f64>>| {
            v.iter_mut().flatten().for_each(|x| *x /= tokens as f64);
        };
        mean(&mut heads);
        mean(&mut units);
        Ok(Importance {
            heads,
            units,
            tokens,
        })
    }

    /// Reorders every layer's heads and units as `r` says (see [`Rewiring`]). The full
    /// network computes the same function afterwards; sub-networks that keep the first `k`
    /// heads or units keep `r`'s first `k`. Do it before training starts: parameters are
    /// replaced, so an optimizer's state for them would no longer apply.
    pub fn rewire(&mut self, r: &Rewiring) -> Result<()> {
        let c = self.config().clone();
        let (l, h, n, dh) = (c.num_layers, c.num_heads, c.intermediate_size, c.head_dim());
        if r.heads.len() != l || r.units.len() != l {
            return Err(ModelError::Input(format!(
                "the rewiring is for {} layers (heads) and {} (units); the network has {l}",
                r.heads.len(),
                r.units.len()
            )));
        }
        for (i, (hp, up)) in r.heads.iter().zip(&r.units).enumerate() {
            if !is_permutation(hp, h) || !is_permutation(up, n) {
                return Err(ModelError::Input(format!(
                    "the rewiring of layer {i} is not a permutation of its {h} heads and {n} units"
                )));
            }
        }
        let device = self.device().clone();
        let index = |cols: Vec<i64>| {
            let len = cols.len();
            Selection::Index(
                Box::new(Tensor::<1, Int>::from_data(
                    TensorData::new(cols, [len]),
                    &device,
                )),
                len,
            )
        };
        let mut weights = self.weights().clone();
        for (layer, (hp, up)) in weights.layers.iter_mut().zip(r.heads.iter().zip(&r.units)) {
            if let Some(att) = layer.attention.as_mut() {
                let cols = index(
                    hp.iter()
                        .flat_map(|&k| (k * dh..(k + 1) * dh).map(|c| c as i64))
                        .collect(),
                );
                for dense in [&mut att.query, &mut att.key, &mut att.value] {
                    permute_columns(dense, &cols);
                }
                permute_rows(&mut att.output, &cols);
            }
            if let Some(ffn) = layer.ffn.as_mut() {
                let cols = index(up.iter().map(|&k| k as i64).collect());
                permute_columns(&mut ffn.intermediate, &cols);
                permute_rows(&mut ffn.output, &cols);
            }
        }
        self.set_weights(weights);
        Ok(())
    }
}

/// A new parameter holding `f` of `p`'s value, rebuilt from its data so that it is a fresh
/// leaf (on an autodiff device the result of `f` is a graph node, which cannot be tracked).
fn reparam<const D: usize>(
    p: &Param<Tensor<D>>,
    f: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Param<Tensor<D>> {
    let value = p.val();
    let device = value.device();
    Param::from_data(f(value.detach()).into_data(), &device)
}

fn permute_columns(d: &mut Dense, sel: &Selection) {
    d.weight = reparam(&d.weight, |t| sel.take(t, 1));
    d.bias = reparam(&d.bias, |t| sel.take(t, 0));
}

fn permute_rows(d: &mut Dense, sel: &Selection) {
    d.weight = reparam(&d.weight, |t| sel.take(t, 0));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_is_stable_and_puts_nan_last() {
        assert_eq!(
            descending(&[1.0, 3.0, 3.0, f64::NAN, 2.0]),
            vec![1, 2, 4, 0, 3]
        );
    }

    #[test]
    fn permutations_are_checked() {
        assert!(is_permutation(&[2, 0, 1], 3));
        assert!(!is_permutation(&[0, 0, 1], 3));
        assert!(!is_permutation(&[0, 1], 3));
        assert!(!is_permutation(&[0, 1, 3], 3));
    }
}
