//! The building blocks of the encoder, each able to run on a subset of its heads or units.
//!
//! Weights are kept in Burn's `[in, out]` layout (the transpose of PyTorch's). A sub-network
//! slices them: a leading range of columns or rows is a contiguous `narrow`, any other set a
//! `select` (gather); either way gradients flow back into the shared full-size parameter.

use burn::module::{Module, Param};
use burn::tensor::module::linear;
use burn::tensor::{Int, Tensor};
use lopper_kernels::{attention, gelu};

/// Which output features (columns) of a projection, or input features (rows) of the next one,
/// a sub-network keeps.
#[derive(Debug, Clone)]
pub enum Selection {
    /// All of them.
    All,
    /// The first `n`.
    Prefix(usize),
    /// Those at these indices (ascending), `n` of them.
    Index(Box<Tensor<1, Int>>, usize),
}

impl Selection {
    /// The kept part of `t` along `dim`.
    pub(crate) fn take<const D: usize>(&self, t: Tensor<D>, dim: usize) -> Tensor<D> {
        match self {
            Selection::All => t,
            Selection::Prefix(n) => t.narrow(dim, 0, *n),
            Selection::Index(idx, _) => t.select(dim, (**idx).clone()),
        }
    }

    /// How many features are kept, given the full count.
    pub fn count(&self, full: usize) -> usize {
        match self {
            Selection::All => full,
            Selection::Prefix(n) | Selection::Index(_, n) => *n,
        }
    }
}

/// A linear projection `x · W + b` with `W` stored `[in, out]`.
#[derive(Module, Debug)]
pub struct Dense {
    /// `[in, out]`.
    pub weight: Param<Tensor<2>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
}

impl Dense {
    /// The whole projection.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        rows_linear(x, self.weight.val(), self.bias.val())
    }

    /// Only the output columns `sel`.
    pub fn forward_columns<const D: usize>(&self, x: Tensor<D>, sel: &Selection) -> Tensor<D> {
        let w = sel.take(self.weight.val(), 1);
        let b = sel.take(self.bias.val(), 0);
        rows_linear(x, w, b)
    }

    /// Only the input rows `sel` (the input holds just those features); the bias is whole.
    pub fn forward_rows<const D: usize>(&self, x: Tensor<D>, sel: &Selection) -> Tensor<D> {
        let w = sel.take(self.weight.val(), 0);
        rows_linear(x, w, self.bias.val())
    }

    /// `[in, out]`.
    pub fn dims(&self) -> [usize; 2] {
        self.weight.val().dims()
    }
}

/// `x · w + b` as one 2-D matrix product: the leading dimensions (batch, sequence) are folded
/// into the rows, so that the weight is packed once for the whole batch instead of once per
/// sequence (Burn keeps a `[batch, seq, in]` input batched for some shapes).
fn rows_linear<const D: usize>(x: Tensor<D>, w: Tensor<2>, b: Tensor<1>) -> Tensor<D> {
    let dims = x.dims();
    if D <= 2 {
        return linear(x, w, Some(b));
    }
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product();
    let mut out = dims;
    out[D - 1] = w.dims()[1];
    linear(x.reshape([rows, d_in]), w, Some(b)).reshape(out)
}

/// Layer normalisation over the last dimension with the checkpoint's epsilon.
#[derive(Module, Debug)]
pub struct Norm {
    /// Scale.
    pub gamma: Param<Tensor<1>>,
    /// Shift.
    pub beta: Param<Tensor<1>>,
}

impl Norm {
    /// Normalises `x` (`[batch, seq, hidden]`): [`lopper_kernels::layer_norm`], flex's fused
    /// row kernel in inference and one operation with lopper's backward in training.
    pub fn forward(&self, x: Tensor<3>, eps: f64) -> Tensor<3> {
        lopper_kernels::layer_norm(x, self.gamma.val(), self.beta.val(), eps)
    }
}

/// Which heads an attention block computes, and how.
#[derive(Debug, Clone)]
pub enum HeadPlan {
    /// Compute these heads only (their `head_dim`-wide column groups).
    Slice(Selection),
    /// Compute every head and multiply the attention probabilities by this `[1, heads, 1, 1]`
    /// mask (the reference's masked mode; applied to each head's context, which is the same).
    Mask(Box<Tensor<4>>),
}

/// Which FFN units a feed-forward block computes, and how.
#[derive(Debug, Clone)]
pub enum UnitPlan {
    /// Compute these units only.
    Slice(Selection),
    /// Compute every unit and multiply the activations by this `[units]` mask.
    Mask(Box<Tensor<1>>),
}

/// Multi-head self-attention with its output projection and post-LayerNorm.
#[derive(Module, Debug)]
pub struct Attention {
    /// Query projection.
    pub query: Dense,
    /// Key projection.
    pub key: Dense,
    /// Value projection.
    pub value: Dense,
    /// Output projection.
    pub output: Dense,
    /// Post-LayerNorm.
    pub norm: Norm,
}

impl Attention {
    /// Heads this block holds.
    pub fn num_heads(&self, head_dim: usize) -> usize {
        self.query.dims()[1] / head_dim
    }

    /// `LayerNorm(x + Attention(x))` over the heads of `plan`; `mask` is the additive attention
    /// mask `[batch, 1, 1, seq]`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: Tensor<4>,
        plan: &HeadPlan,
        head_dim: usize,
        eps: f64,
    ) -> Tensor<3> {
        self.forward_with_context(x, mask, plan, head_dim, eps).0
    }

    /// [`Attention::forward`], with the context vectors of the computed heads, `[batch,
    /// heads, seq, head_dim]` (what [rewiring](crate::Importance) weighs heads by).
    pub(crate) fn forward_with_context(
        &self,
        x: Tensor<3>,
        mask: Tensor<4>,
        plan: &HeadPlan,
        head_dim: usize,
        eps: f64,
    ) -> (Tensor<3>, Tensor<4>) {
        let [b, s, _] = x.dims();
        let all = Selection::All;
        let cols = match plan {
            HeadPlan::Slice(sel) => sel,
            HeadPlan::Mask(_) => &all,
        };
        let width = cols.count(self.query.dims()[1]);
        let heads = width / head_dim;
        let split = |t: Tensor<3>| t.reshape([b, s, heads, head_dim]).swap_dims(1, 2);
        let q = split(self.query.forward_columns(x.clone(), cols));
        let k = split(self.key.forward_columns(x.clone(), cols));
        let v = split(self.value.forward_columns(x.clone(), cols));
        // Scaled dot-product attention (scale 1/√head_dim): flex's fused attention in
        // inference; under autodiff one operation, two GEMMs around lopper's fused softmax
        // and a backward of its own. The padding mask is additive, as in transformers, and
        // shared by the heads without being expanded per head.
        let mut per_head = attention(q, k, v, mask);
        if let HeadPlan::Mask(m) = plan {
            // Zeroing a head's probabilities zeroes its context: (m·P)·V = m·(P·V).
            per_head = per_head * (**m).clone();
        }
        let context = per_head.clone().swap_dims(1, 2).reshape([b, s, width]);
        let out = self.output.forward_rows(context, cols);
        (self.norm.forward(out + x, eps), per_head)
    }
}

/// The position-wise feed-forward block with its post-LayerNorm.
#[derive(Module, Debug)]
pub struct FeedForward {
    /// `hidden → units`.
    pub intermediate: Dense,
    /// `units → hidden`.
    pub output: Dense,
    /// Post-LayerNorm.
    pub norm: Norm,
}

impl FeedForward {
    /// Units this block holds.
    pub fn num_units(&self) -> usize {
        self.intermediate.dims()[1]
    }

    /// `LayerNorm(x + FFN(x))` over the units of `plan` (exact erf GELU).
    pub fn forward(&self, x: Tensor<3>, plan: &UnitPlan, eps: f64) -> Tensor<3> {
        let all = Selection::All;
        let sel = match plan {
            UnitPlan::Slice(sel) => sel,
            UnitPlan::Mask(_) => &all,
        };
        let mut h = gelu(self.intermediate.forward_columns(x.clone(), sel));
        if let UnitPlan::Mask(m) = plan {
            h = h * (**m).clone().unsqueeze::<3>();
        }
        let out = self.output.forward_rows(h, sel);
        self.norm.forward(out + x, eps)
    }
}

/// One transformer layer; a block pruned away entirely in an exported model is `None`.
#[derive(Module, Debug)]
pub struct Layer {
    /// Self-attention, if the layer keeps any head.
    pub attention: Option<Attention>,
    /// Feed-forward block, if the layer keeps any unit.
    pub ffn: Option<FeedForward>,
}

/// Word, position and token-type embeddings with their LayerNorm.
#[derive(Module, Debug)]
pub struct Embeddings {
    /// `[vocab, hidden]`.
    pub word: Param<Tensor<2>>,
    /// `[positions, hidden]`.
    pub position: Param<Tensor<2>>,
    /// `[types, hidden]`.
    pub token_type: Param<Tensor<2>>,
    /// LayerNorm.
    pub norm: Norm,
}

impl Embeddings {
    /// Embeds `[batch, seq]` ids.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        position_ids: Tensor<2, Int>,
        token_type_ids: Tensor<2, Int>,
        eps: f64,
    ) -> Tensor<3> {
        let [b, s] = input_ids.dims();
        let lookup = |table: Tensor<2>, ids: Tensor<2, Int>| {
            let d = table.dims()[1];
            table.select(0, ids.reshape([b * s])).reshape([b, s, d])
        };
        let x = lookup(self.word.val(), input_ids)
            + lookup(self.position.val(), position_ids)
            + lookup(self.token_type.val(), token_type_ids);
        self.norm.forward(x, eps)
    }
}
