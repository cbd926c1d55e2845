//! # lopper-kernels
//!
//! lopper's own kernels for the operations where Burn's `flex` backend leaves time on the
//! table, as a Burn backend extension: on `flex` they run vectorised and on every core, on the
//! other backends (and for dtypes other than `f32`) they are Burn's own operations, and under
//! autodiff their backward is written here too.
//!
//! - [`gelu`]: the exact (erf) GELU. Flex computes it one element at a time with `libm`'s
//!   scalar `erff` (about 8 ns an element, on one thread); here Φ(x) comes from the
//!   Abramowitz–Stegun 7.1.26 form of erfc, `t·P(t)·exp(−x²/2)` with `t = 1/(1 + p|x|/√2)`
//!   (absolute error under 1.5e-7), and one vectorised `exp` serves the forward and the
//!   backward's density term. Within 1e-6 of the exact GELU and its derivative.
//! - [`attention`]: scaled dot-product attention with an additive bias that the heads share.
//!   In training (tracked inputs) it is one recorded operation: two GEMMs around lopper's own
//!   softmax on `flex` (one pass to scale, add the bias read through its strides and find the
//!   row's maximum, one vectorised `exp` and sum, one scaling, rows on every core), and a
//!   backward of four GEMMs around one fused pass, `dS = scale·P⊙(dP − rowsum(P⊙dP))`, where
//!   Burn's autodiff records about ten operations over the `[batch, heads, seq, seq]` scores.
//!   In inference it is flex's own fused attention, which is faster there.
//! - [`layer_norm`]: in training one recorded operation whose forward writes the output, `x̂`
//!   and `1/σ` in one pass over the rows and whose backward gives `dx`, `dγ` and `dβ` in one
//!   pass (Burn's autodiff records nine operations); in inference flex's fused layer norm.
//! - [`adamw_update`]: one AdamW step of a parameter with Burn's per-parameter norm clipping,
//!   one pass for the gradient's norm and one over the parameter and its moments.
//!
//! The element loops are plain Rust that the compiler vectorises; `pulp` compiles them once per
//! instruction set (AVX-512, AVX2 + FMA, the baseline) and picks the best this CPU has at run
//! time, without `unsafe` here. Rayon splits the work into blocks across the cores.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::Tensor;
use std::sync::atomic::{AtomicBool, Ordering};

/// The operations lopper computes with kernels of its own. The default bodies are Burn's
/// operations, which every backend has.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    LibTorch: cfg(feature = "tch"),
    Cube: cfg(feature = "cuda"),
    Autodiff
)]
pub trait KernelOps: Backend {
    /// The exact GELU, `x · Φ(x)`.
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// `grad · GELU′(x)`.
    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu_backward(x, grad)
    }

    /// `softmax(q·kᵀ/√head_dim + bias)·v` for `q` `[batch, heads, seq_q, head_dim]`, `k` and
    /// `v` `[batch, heads, seq_k, head_dim]` and an additive `bias` `[batch or 1, 1, seq_q or
    /// 1, seq_k]` (shared by the heads). The bias is a constant: it gets no gradient.
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        decomposed::attention::<Self>(q, k, v, bias)
    }

    /// `softmax(scale·scores + bias)` over the last dimension of `scores` `[batch, heads,
    /// seq_q, seq_k]`, `bias` as in [`KernelOps::fused_attention`].
    fn softmax_rows(
        scores: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        decomposed::softmax_rows::<Self>(scores, bias, scale)
    }

    /// The gradient with respect to `scores` of [`KernelOps::softmax_rows`] given its output
    /// `p` and the gradient `grad` of the output: `scale·p⊙(grad − rowsum(p⊙grad))`.
    fn softmax_rows_backward(
        p: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        decomposed::softmax_rows_backward::<Self>(p, grad, scale)
    }

    /// Layer normalisation over the last dimension, `(x − mean)/√(var + epsilon)·gamma + beta`,
    /// `gamma` and `beta` `[d]`.
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        Self::layer_norm(x, gamma, Some(beta), epsilon)
    }

    /// [`KernelOps::fused_layer_norm`] with what its backward needs: the output, the
    /// normalised input `x̂ = (x − mean)/σ` and `1/σ` (`[…, 1]`), `σ = √(var + epsilon)`.
    fn layer_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        decomposed::layer_norm_train::<Self>(x, gamma, beta, epsilon)
    }

    /// The gradients of [`KernelOps::fused_layer_norm`] with respect to `x`, `gamma` and
    /// `beta`, given `x̂` and `1/σ` from [`KernelOps::layer_norm_train`] and the gradient
    /// `grad` of the output: `dx = (g − mean(g) − x̂·mean(g⊙x̂))/σ` with `g = grad⊙gamma`,
    /// `dgamma = Σ grad⊙x̂` and `dbeta = Σ grad` over every row.
    fn layer_norm_backward(
        xhat: FloatTensor<Self>,
        inv_std: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        decomposed::layer_norm_backward::<Self>(xhat, inv_std, gamma, grad)
    }

    /// One AdamW step of a parameter: its gradient clipped to `step.clip_norm` (if any), the
    /// moments updated, then the decoupled decay and the update applied. Returns the new
    /// parameter and moments. `moment_1` and `moment_2` are zeros before the first step.
    fn adamw_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        decomposed::adamw_update::<Self>(param, grad, moment_1, moment_2, step)
    }
}

/// The coefficients of one AdamW step, as Burn's `AdamW` computes them (so that the
/// decomposed path is Burn's operation for operation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWStep {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// Added to `√v̂`.
    pub epsilon: f32,
    /// Decoupled weight decay (the parameter is multiplied by `1 − lr·weight_decay`).
    pub weight_decay: f32,
    /// The step's number, from 1 (the moments' bias correction).
    pub time: i32,
    /// The largest L2 norm the parameter's gradient keeps, if any: above it the gradient is
    /// scaled to it, as Burn's `GradientClipping::Norm`.
    pub clip_norm: Option<f32>,
}

impl AdamWStep {
    /// `1 − β₁ᵗ` and `1 − β₂ᵗ`, in `f32` as Burn's.
    fn bias_corrections(&self) -> (f32, f32) {
        (
            1.0 - self.beta_1.powi(self.time),
            1.0 - self.beta_2.powi(self.time),
        )
    }

    /// What the parameter is multiplied by before the update.
    fn decay_factor(&self) -> f64 {
        1.0 - self.lr * f64::from(self.weight_decay)
    }

    /// The gradient's scale from its L2 norm: `clip/(norm + f32::MIN_POSITIVE)`, at most 1.
    fn clip_scale(&self, norm: f32) -> f32 {
        match self.clip_norm {
            Some(c) => (c / (norm + f32::MIN_POSITIVE)).min(1.0),
            None => 1.0,
        }
    }
}

/// The operations of [`KernelOps`] written with Burn's operations: what every backend runs by
/// default, and what a lopper kernel falls back to on inputs it does not take.
mod decomposed {
    use burn::backend::Backend;
    use burn::backend::ops::AttentionModuleOptions;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Shape, TensorMetadata};

    pub(crate) fn attention<B: Backend>(
        q: FloatTensor<B>,
        k: FloatTensor<B>,
        v: FloatTensor<B>,
        bias: FloatTensor<B>,
    ) -> FloatTensor<B> {
        let [b, _, tq, _] = q.shape().dims::<4>();
        let tk = k.shape().dims::<4>()[2];
        let bias = B::float_expand(bias, Shape::new([b, 1, tq, tk]));
        B::attention(q, k, v, None, Some(bias), AttentionModuleOptions::default())
    }

    pub(crate) fn softmax_rows<B: Backend>(
        scores: FloatTensor<B>,
        bias: FloatTensor<B>,
        scale: f64,
    ) -> FloatTensor<B> {
        let y = B::float_add(B::float_mul_scalar(scores, scale.into()), bias);
        let max = B::float_max_dim(y.clone(), 3);
        let e = B::float_exp(B::float_sub(y, max));
        let sum = B::float_sum_dim(e.clone(), 3);
        B::float_div(e, sum)
    }

    pub(crate) fn softmax_rows_backward<B: Backend>(
        p: FloatTensor<B>,
        grad: FloatTensor<B>,
        scale: f64,
    ) -> FloatTensor<B> {
        let pg = B::float_mul(p.clone(), grad);
        let dot = B::float_sum_dim(pg.clone(), 3);
        let ds = B::float_sub(pg, B::float_mul(p, dot));
        B::float_mul_scalar(ds, scale.into())
    }

    /// `[1, …, 1, d]` for a tensor of `shape` whose last dimension is `d`: how `gamma` and
    /// `beta` broadcast over it.
    fn along_last(shape: &Shape) -> Shape {
        let rank = shape.num_dims();
        Shape::from(
            (0..rank)
                .map(|i| if i + 1 == rank { shape[i] } else { 1 })
                .collect::<Vec<_>>(),
        )
    }

    pub(crate) fn layer_norm_train<B: Backend>(
        x: FloatTensor<B>,
        gamma: FloatTensor<B>,
        beta: FloatTensor<B>,
        epsilon: f64,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let shape = x.shape();
        let last = shape.num_dims() - 1;
        let mean = B::float_mean_dim(x.clone(), last);
        let centered = B::float_sub(x, mean);
        let var = B::float_mean_dim(B::float_mul(centered.clone(), centered.clone()), last);
        let inv_std = B::float_recip(B::float_sqrt(B::float_add_scalar(var, epsilon.into())));
        let xhat = B::float_mul(centered, inv_std.clone());
        let gamma = B::float_reshape(gamma, along_last(&shape));
        let beta = B::float_reshape(beta, along_last(&shape));
        let y = B::float_add(B::float_mul(xhat.clone(), gamma), beta);
        (y, xhat, inv_std)
    }

    pub(crate) fn layer_norm_backward<B: Backend>(
        xhat: FloatTensor<B>,
        inv_std: FloatTensor<B>,
        gamma: FloatTensor<B>,
        grad: FloatTensor<B>,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let shape = xhat.shape();
        let last = shape.num_dims() - 1;
        let d = shape[last];
        let rows = shape.num_elements() / d.max(1);
        let g = B::float_mul(grad.clone(), B::float_reshape(gamma, along_last(&shape)));
        let mean_g = B::float_mean_dim(g.clone(), last);
        let mean_gx = B::float_mean_dim(B::float_mul(g.clone(), xhat.clone()), last);
        let centered = B::float_sub(B::float_sub(g, mean_g), B::float_mul(xhat.clone(), mean_gx));
        let dx = B::float_mul(centered, inv_std);
        let column_sums = |t: FloatTensor<B>| {
            let t = B::float_sum_dim(B::float_reshape(t, Shape::new([rows, d])), 0);
            B::float_reshape(t, Shape::new([d]))
        };
        let dgamma = column_sums(B::float_mul(grad.clone(), xhat));
        (dx, dgamma, column_sums(grad))
    }

    /// Burn's `AdamW` step with its `GradientClipping::Norm`, operation for operation.
    pub(crate) fn adamw_update<B: Backend>(
        param: FloatTensor<B>,
        grad: FloatTensor<B>,
        m: FloatTensor<B>,
        v: FloatTensor<B>,
        step: super::AdamWStep,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let grad = match step.clip_norm {
            Some(clip) => {
                let norm = B::float_sqrt(B::float_sum(B::float_mul(grad.clone(), grad.clone())));
                let norm = B::float_add_scalar(norm, f32::MIN_POSITIVE.into());
                let scale = B::float_mul_scalar(B::float_recip(norm), clip.into());
                let scale = B::float_clamp_max(scale, 1.0f32.into());
                let ones = Shape::from(vec![1; grad.shape().num_dims()]);
                B::float_mul(grad, B::float_reshape(scale, ones))
            }
            None => grad,
        };
        let (c1, c2) = step.bias_corrections();
        let m = B::float_add(
            B::float_mul_scalar(m, step.beta_1.into()),
            B::float_mul_scalar(grad.clone(), (1.0 - step.beta_1).into()),
        );
        let v = B::float_add(
            B::float_mul_scalar(v, step.beta_2.into()),
            B::float_mul_scalar(B::float_mul(grad.clone(), grad), (1.0 - step.beta_2).into()),
        );
        let m_hat = B::float_div_scalar(m.clone(), c1.into());
        let v_hat = B::float_div_scalar(v.clone(), c2.into());
        let delta = B::float_div(
            m_hat,
            B::float_add_scalar(B::float_sqrt(v_hat), step.epsilon.into()),
        );
        let param = B::float_sub(
            B::float_mul_scalar(param, step.decay_factor().into()),
            B::float_mul_scalar(delta, step.lr.into()),
        );
        (param, m, v)
    }
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns lopper's kernels off (Burn's operations run instead) or back on, for the whole
/// process: what the benches compare. On by default.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether lopper's kernels are on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The exact GELU of `x`, `x · Φ(x)` (lopper's kernel on `flex`, Burn's elsewhere).
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !enabled() {
        return burn::tensor::activation::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as KernelOps>::exact_gelu(x.into_dispatch()))
}

/// Scaled dot-product attention, `softmax(q·kᵀ/√head_dim + bias)·v`, with `q`, `k`, `v`
/// `[batch, heads, seq, head_dim]` and an additive `bias` `[batch or 1, 1, seq_q or 1, seq_k]`
/// that the heads share (it gets no gradient). Under autodiff, one operation with lopper's
/// backward (and lopper's softmax on `flex`); in inference, and when the kernels are off,
/// Burn's attention.
pub fn attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, bias: Tensor<4>) -> Tensor<4> {
    let (q, k, v, bias) = (
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        bias.into_dispatch(),
    );
    Tensor::from_dispatch(if enabled() {
        <Dispatch as KernelOps>::fused_attention(q, k, v, bias)
    } else {
        decomposed::attention::<Dispatch>(q, k, v, bias)
    })
}

/// Layer normalisation of `x` over its last dimension, `(x − mean)/√(var + epsilon)·gamma +
/// beta`. Under autodiff one operation with lopper's backward (one pass over the rows on
/// `flex`); in inference, and when the kernels are off, Burn's `layer_norm` (flex fuses it).
pub fn layer_norm<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> Tensor<D> {
    if !enabled() {
        return burn::tensor::module::layer_norm(x, gamma, Some(beta), epsilon);
    }
    Tensor::from_dispatch(<Dispatch as KernelOps>::fused_layer_norm(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    ))
}

/// One AdamW step of a parameter (not tracked: what an optimizer gets), its gradient clipped
/// first if `step.clip_norm` says so: `(param, moment_1, moment_2)` after the step. On `flex` one
/// pass over the gradient for its norm and one over the parameter and its moments; elsewhere,
/// and when the kernels are off, Burn's operations as Burn's `AdamW` runs them.
pub fn adamw_update<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moment_1: Tensor<D>,
    moment_2: Tensor<D>,
    step: AdamWStep,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let args = (
        param.into_dispatch(),
        grad.into_dispatch(),
        moment_1.into_dispatch(),
        moment_2.into_dispatch(),
    );
    let (p, m, v) = if enabled() {
        <Dispatch as KernelOps>::adamw_update(args.0, args.1, args.2, args.3, step)
    } else {
        decomposed::adamw_update::<Dispatch>(args.0, args.1, args.2, args.3, step)
    };
    (
        Tensor::from_dispatch(p),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}

#[cfg(feature = "tch")]
impl KernelOps for burn::backend::LibTorch {}

#[cfg(feature = "cuda")]
impl KernelOps for burn::backend::Cube {}

#[cfg(feature = "flex")]
mod flex {
    use super::KernelOps;
    use burn::backend::flex::{Flex, FlexTensor, Layout};
    use burn::backend::ops::ActivationOps;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{DType, TensorMetadata};
    use burn::tensor::Bytes;
    use rayon::prelude::*;

    /// Elements a task takes at once: large enough to amortise rayon's hand-off, small enough
    /// to spread one FFN activation ([tokens, units]) over every core.
    const BLOCK: usize = 16 * 1024;

    impl KernelOps for Flex {
        fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
            if x.dtype() != DType::F32 {
                return Flex::gelu(x);
            }
            let mut x = dense(x);
            if x.is_unique() {
                x.storage_mut::<f32>()
                    .par_chunks_mut(BLOCK)
                    .for_each(super::math::gelu_in_place);
                return x;
            }
            let src = x.storage::<f32>();
            let mut out = vec![0f32; src.len()];
            out.par_chunks_mut(BLOCK)
                .zip(src.par_chunks(BLOCK))
                .for_each(|(o, x)| super::math::gelu_into(x, o));
            tensor_like(&x, out)
        }

        fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
            if x.dtype() != DType::F32 || grad.dtype() != DType::F32 || x.shape() != grad.shape() {
                return Flex::gelu_backward(x, grad);
            }
            let x = dense(x);
            let mut grad = dense(grad);
            if grad.is_unique() {
                let src = x.storage::<f32>();
                let g = grad.storage_mut::<f32>();
                g.par_chunks_mut(BLOCK)
                    .zip(src.par_chunks(BLOCK))
                    .for_each(|(g, x)| super::math::gelu_backward_in_place(x, g));
                return grad;
            }
            let src = x.storage::<f32>();
            let g = grad.storage::<f32>();
            let mut out = vec![0f32; src.len()];
            out.par_chunks_mut(BLOCK)
                .zip(src.par_chunks(BLOCK).zip(g.par_chunks(BLOCK)))
                .for_each(|(o, (x, g))| super::math::gelu_backward_into(x, g, o));
            tensor_like(&x, out)
        }

        // `fused_attention` keeps its default body in inference: flex's own fused attention
        // (Burn's `ModuleOps::attention`) runs the encoder's [32, 12, 128, 32] case in 23 ms
        // against 37 ms for two GEMMs around lopper's softmax (the forward bench), because it
        // never writes the [batch, heads, seq, seq] probabilities out. Under autodiff those
        // are what the backward needs, and there lopper's path below is the faster one.

        fn softmax_rows(
            scores: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            scale: f64,
        ) -> FloatTensor<Self> {
            let bias = match BiasRows::new(&scores, &bias) {
                Some(rows) if rows.needs_copy => bias.to_contiguous(),
                _ => bias,
            };
            let Some(rows) = BiasRows::new(&scores, &bias).filter(|r| !r.needs_copy) else {
                return super::decomposed::softmax_rows::<Flex>(scores, bias, scale);
            };
            let mut y = unique(dense(scores));
            let b = bias.storage::<f32>();
            let n = rows.len;
            let per_task = (BLOCK / n.max(1)).max(1);
            let scale = scale as f32;
            y.storage_mut::<f32>()
                .par_chunks_mut(per_task * n)
                .enumerate()
                .for_each(|(task, chunk)| {
                    let first = task * per_task;
                    super::math::softmax_rows(chunk, n, scale, |r| {
                        let at = rows.offset(first + r);
                        &b[at..at + n]
                    });
                });
            y
        }

        fn softmax_rows_backward(
            p: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            scale: f64,
        ) -> FloatTensor<Self> {
            let shape = p.shape();
            if p.dtype() != DType::F32
                || grad.dtype() != DType::F32
                || shape != grad.shape()
                || shape.num_dims() == 0
            {
                return super::decomposed::softmax_rows_backward::<Flex>(p, grad, scale);
            }
            let n = shape[shape.num_dims() - 1];
            let p = dense(p);
            let mut g = unique(dense(grad));
            let per_task = (BLOCK / n.max(1)).max(1) * n;
            let scale = scale as f32;
            g.storage_mut::<f32>()
                .par_chunks_mut(per_task)
                .zip(p.storage::<f32>().par_chunks(per_task))
                .for_each(|(g, p)| super::math::softmax_rows_backward(p, g, n, scale));
            g
        }

        fn adamw_update(
            param: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            m: FloatTensor<Self>,
            v: FloatTensor<Self>,
            step: super::AdamWStep,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let shape = param.shape();
            let fits = [&param, &grad, &m, &v]
                .iter()
                .all(|t| t.dtype() == DType::F32 && t.shape() == shape);
            if !fits {
                return super::decomposed::adamw_update::<Flex>(param, grad, m, v, step);
            }
            let grad = dense(grad);
            let g = grad.storage::<f32>();
            let scale = if step.clip_norm.is_some() {
                // Partial sums of squares per block, added in block order: the same bits however
                // rayon runs the blocks.
                let parts: Vec<f32> = g
                    .par_chunks(BLOCK)
                    .map(super::math::sum_of_squares)
                    .collect();
                step.clip_scale(parts.iter().sum::<f32>().sqrt())
            } else {
                1.0
            };
            let (mut param, mut m, mut v) =
                (unique(dense(param)), unique(dense(m)), unique(dense(v)));
            let coefficients = super::math::AdamW::new(&step, scale);
            param
                .storage_mut::<f32>()
                .par_chunks_mut(BLOCK)
                .zip(m.storage_mut::<f32>().par_chunks_mut(BLOCK))
                .zip(v.storage_mut::<f32>().par_chunks_mut(BLOCK))
                .zip(g.par_chunks(BLOCK))
                .for_each(|(((p, m), v), g)| coefficients.update(p, m, v, g));
            (param, m, v)
        }

        // `fused_layer_norm` keeps its default body, flex's own fused layer norm: in
        // inference nothing but the output is needed, and flex computes it in one row kernel.

        fn layer_norm_train(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let Some(d) = norm_width(&x, &[&gamma, &beta]) else {
                return super::decomposed::layer_norm_train::<Flex>(x, gamma, beta, epsilon);
            };
            let (x, gamma, beta) = (dense(x), dense(gamma), dense(beta));
            let src = x.storage::<f32>();
            let rows = src.len() / d;
            let per_task = (BLOCK / d).max(1);
            let mut y = vec![0f32; src.len()];
            let mut xhat = vec![0f32; src.len()];
            let mut inv_std = vec![0f32; rows];
            let (g, b) = (gamma.storage::<f32>(), beta.storage::<f32>());
            let eps = epsilon as f32;
            y.par_chunks_mut(per_task * d)
                .zip(xhat.par_chunks_mut(per_task * d))
                .zip(inv_std.par_chunks_mut(per_task))
                .zip(src.par_chunks(per_task * d))
                .for_each(|(((y, xhat), inv_std), x)| {
                    super::math::layer_norm_rows(x, g, b, eps, y, xhat, inv_std);
                });
            let mut stats = x.shape();
            let last = stats.num_dims() - 1;
            stats[last] = 1;
            let inv_std = FlexTensor::new(
                Bytes::from_elems(inv_std),
                Layout::contiguous(stats),
                DType::F32,
            );
            (tensor_like(&x, y), tensor_like(&x, xhat), inv_std)
        }

        fn layer_norm_backward(
            xhat: FloatTensor<Self>,
            inv_std: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            grad: FloatTensor<Self>,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let fits = norm_width(&xhat, &[&gamma]).filter(|&d| {
                grad.dtype() == DType::F32
                    && grad.shape() == xhat.shape()
                    && inv_std.dtype() == DType::F32
                    && inv_std.shape().num_elements() * d == xhat.shape().num_elements()
            });
            let Some(d) = fits else {
                return super::decomposed::layer_norm_backward::<Flex>(xhat, inv_std, gamma, grad);
            };
            let (xhat, inv_std, gamma, grad) =
                (dense(xhat), dense(inv_std), dense(gamma), dense(grad));
            let (xh, r, g) = (
                xhat.storage::<f32>(),
                inv_std.storage::<f32>(),
                gamma.storage::<f32>(),
            );
            let per_task = (BLOCK / d).max(1);
            let mut dx = vec![0f32; xh.len()];
            // Each task sums its rows' share of dgamma and dbeta; the shares are then added
            // in task order, so that the result does not depend on how rayon ran them.
            let shares: Vec<(Vec<f32>, Vec<f32>)> = dx
                .par_chunks_mut(per_task * d)
                .zip(xh.par_chunks(per_task * d))
                .zip(grad.storage::<f32>().par_chunks(per_task * d))
                .zip(r.par_chunks(per_task))
                .map(|(((dx, xh), grad), r)| {
                    let mut share = (vec![0f32; d], vec![0f32; d]);
                    super::math::layer_norm_backward_rows(
                        xh,
                        r,
                        g,
                        grad,
                        dx,
                        &mut share.0,
                        &mut share.1,
                    );
                    share
                })
                .collect();
            let (mut dgamma, mut dbeta) = (vec![0f32; d], vec![0f32; d]);
            for (sg, sb) in &shares {
                super::math::add_assign(&mut dgamma, sg);
                super::math::add_assign(&mut dbeta, sb);
            }
            (
                tensor_like(&xhat, dx),
                tensor_like(&gamma, dgamma),
                tensor_like(&gamma, dbeta),
            )
        }
    }

    /// The width `d` a layer norm of `x` normalises over, when lopper's kernel takes it: `x`
    /// `f32` of rank ≥ 1 with `d > 0`, and each of `params` an `f32` `[d]`.
    fn norm_width(x: &FlexTensor, params: &[&FlexTensor]) -> Option<usize> {
        let shape = x.shape();
        let d = *shape.last()?;
        let fits = x.dtype() == DType::F32
            && d > 0
            && params
                .iter()
                .all(|p| p.dtype() == DType::F32 && p.shape().as_slice() == [d]);
        fits.then_some(d)
    }

    /// Where each row of a `[batch, heads, seq_q, seq_k]` score tensor finds its bias row, for
    /// a bias `[batch or 1, heads or 1, seq_q or 1, seq_k]` read through its strides (so that
    /// a broadcast mask is never materialised).
    #[derive(Clone, Copy)]
    struct BiasRows {
        /// `seq_k`.
        len: usize,
        heads: usize,
        seq_q: usize,
        /// The bias's strides for batch, head and query (0 where it broadcasts) and its start.
        strides: [usize; 3],
        start: usize,
        /// The bias must be copied first: its last dimension is not contiguous, or a stride is
        /// negative.
        needs_copy: bool,
    }

    impl BiasRows {
        fn new(scores: &FlexTensor, bias: &FlexTensor) -> Option<Self> {
            let s = scores.shape();
            let b = bias.shape();
            if scores.dtype() != DType::F32
                || bias.dtype() != DType::F32
                || s.num_dims() != 4
                || b.num_dims() != 4
                || b[3] != s[3]
                || (0..3).any(|d| b[d] != 1 && b[d] != s[d])
            {
                return None;
            }
            let layout = bias.layout();
            let st = layout.strides();
            let needs_copy = st.iter().any(|&x| x < 0) || (b[3] > 1 && st[3] != 1);
            let stride = |d: usize| if b[d] == 1 { 0 } else { st[d].unsigned_abs() };
            Some(Self {
                len: s[3],
                heads: s[1],
                seq_q: s[2],
                strides: [stride(0), stride(1), stride(2)],
                start: layout.start_offset(),
                needs_copy,
            })
        }

        /// The offset of score row `r`'s bias row in the bias's storage.
        fn offset(&self, r: usize) -> usize {
            let (q, bh) = (r % self.seq_q, r / self.seq_q);
            let (h, b) = (bh % self.heads, bh / self.heads);
            self.start + b * self.strides[0] + h * self.strides[1] + q * self.strides[2]
        }
    }

    /// `t`, copied when its buffer is shared (so that it can be written in place).
    fn unique(t: FlexTensor) -> FlexTensor {
        if t.is_unique() {
            t
        } else {
            tensor_like(&t, t.storage::<f32>().to_vec())
        }
    }

    /// `t` with its elements alone in a contiguous buffer from offset 0, in row-major order
    /// (copied only when they are not already).
    fn dense(t: FlexTensor) -> FlexTensor {
        let layout = t.layout();
        let n = layout.num_elements();
        if layout.is_contiguous() && layout.start_offset() == 0 && t.storage::<f32>().len() == n {
            t
        } else {
            t.to_contiguous()
        }
    }

    fn tensor_like(t: &FlexTensor, values: Vec<f32>) -> FlexTensor {
        FlexTensor::new(
            Bytes::from_elems(values),
            Layout::contiguous(t.layout().shape().clone()),
            DType::F32,
        )
    }
}

/// The element loops, written so that the compiler vectorises them (no branches, no calls),
/// and compiled by `pulp` for the best instruction set of the running CPU.
mod math {
    use pulp::Arch;

    const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    /// 1/√(2π).
    const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
    // Abramowitz & Stegun 7.1.26: erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²),
    // t = 1/(1 + p·z), z ≥ 0, absolute error ≤ 1.5e-7.
    const P: f32 = 0.327_591_1;
    const A1: f32 = 0.254_829_6;
    const A2: f32 = -0.284_496_74;
    const A3: f32 = 1.421_413_7;
    const A4: f32 = -1.453_152_1;
    const A5: f32 = 1.061_405_4;

    /// e^y for y ≤ 0, to a few ulps: y = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor
    /// series to degree 7, 2^k written into the exponent bits. Below −87 (where f32 runs out of
    /// normal numbers) it is e^−87, which is 0 to every use here.
    #[inline(always)]
    fn exp_neg(y: f32) -> f32 {
        const LOG2_E: f32 = std::f32::consts::LOG2_E;
        const LN2_HI: f32 = 0.693_145_75;
        const LN2_LO: f32 = 1.428_606_8e-6;
        // Adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
        const ROUND: f32 = 12_582_912.0;
        let y = y.max(-87.0);
        let m = y * LOG2_E + ROUND;
        let k = m - ROUND;
        let r = y - k * LN2_HI - k * LN2_LO;
        let p = 1.0
            + r * (1.0
                + r * (0.5
                    + r * (1.0 / 6.0
                        + r * (1.0 / 24.0
                            + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
        // m's bits are those of 1.5·2²³ plus k; 2^k is (k + 127) in the exponent field.
        let bits = m
            .to_bits()
            .wrapping_sub(0x4B40_0000)
            .wrapping_add(127)
            .wrapping_shl(23);
        p * f32::from_bits(bits)
    }

    /// Φ(x) and the density e^(−x²/2) (without its 1/√(2π)).
    #[inline(always)]
    fn cdf_and_density(x: f32) -> (f32, f32) {
        let z = x.abs() * FRAC_1_SQRT_2;
        let t = 1.0 / (1.0 + P * z);
        let e = exp_neg(-0.5 * x * x);
        // Φ(−|x|) = erfc(|x|/√2) / 2.
        let lower = 0.5 * t * (A1 + t * (A2 + t * (A3 + t * (A4 + t * A5)))) * e;
        let cdf = if x >= 0.0 { 1.0 - lower } else { lower };
        (cdf, e)
    }

    #[inline(always)]
    pub(super) fn gelu_scalar(x: f32) -> f32 {
        x * cdf_and_density(x).0
    }

    #[inline(always)]
    pub(super) fn gelu_derivative_scalar(x: f32) -> f32 {
        let (cdf, e) = cdf_and_density(x);
        cdf + x * e * FRAC_1_SQRT_2PI
    }

    /// Lanes of the reductions' accumulators: independent partial results the compiler keeps
    /// in vector registers.
    const LANES: usize = 16;

    #[inline(always)]
    fn max_of(v: &[f32]) -> f32 {
        let mut acc = [f32::NEG_INFINITY; LANES];
        let mut chunks = v.chunks_exact(LANES);
        for c in &mut chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a = if x > *a { x } else { *a };
            }
        }
        let tail = chunks
            .remainder()
            .iter()
            .fold(f32::NEG_INFINITY, |a, &x| a.max(x));
        acc.iter().fold(tail, |a, &x| a.max(x))
    }

    #[inline(always)]
    fn sum_of(v: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let mut chunks = v.chunks_exact(LANES);
        for c in &mut chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += x;
            }
        }
        chunks.remainder().iter().sum::<f32>() + acc.iter().sum::<f32>()
    }

    #[inline(always)]
    fn dot(u: &[f32], v: &[f32]) -> f32 {
        let mut acc = [0f32; LANES];
        let mut cu = u.chunks_exact(LANES);
        let mut cv = v.chunks_exact(LANES);
        for (a, b) in (&mut cu).zip(&mut cv) {
            for ((s, &x), &y) in acc.iter_mut().zip(a).zip(b) {
                *s += x * y;
            }
        }
        let tail: f32 = cu
            .remainder()
            .iter()
            .zip(cv.remainder())
            .map(|(x, y)| x * y)
            .sum();
        tail + acc.iter().sum::<f32>()
    }

    /// e^y for y ≤ 0, exactly 0 below −87 (where [`exp_neg`] stops).
    #[inline(always)]
    fn exp_neg_or_zero(y: f32) -> f32 {
        let e = exp_neg(y);
        if y < -87.0 { 0.0 } else { e }
    }

    /// Each row (`n` long) of `rows` becomes `softmax(scale·row + bias(r))`, `r` the row's
    /// index in `rows`. As Burn's: the maximum is clamped to the least finite value and the
    /// sum to the least normal one, so a row masked everywhere with −∞ is 0, not NaN.
    pub(super) fn softmax_rows<'b>(
        rows: &mut [f32],
        n: usize,
        scale: f32,
        bias: impl Fn(usize) -> &'b [f32],
    ) {
        Arch::new().dispatch(|| {
            for (r, row) in rows.chunks_exact_mut(n).enumerate() {
                for (y, &b) in row.iter_mut().zip(bias(r)) {
                    *y = *y * scale + b;
                }
                let max = max_of(row).max(f32::MIN);
                for y in row.iter_mut() {
                    *y = exp_neg_or_zero(*y - max);
                }
                let inv = 1.0 / sum_of(row).max(f32::MIN_POSITIVE);
                for y in row.iter_mut() {
                    *y *= inv;
                }
            }
        });
    }

    /// Each row (`n` long) of `grad` becomes `scale·p⊙(grad − ⟨p, grad⟩)`.
    pub(super) fn softmax_rows_backward(p: &[f32], grad: &mut [f32], n: usize, scale: f32) {
        Arch::new().dispatch(|| {
            for (g, p) in grad.chunks_exact_mut(n).zip(p.chunks_exact(n)) {
                let d = dot(p, g);
                for (g, &p) in g.iter_mut().zip(p) {
                    *g = scale * p * (*g - d);
                }
            }
        });
    }

    /// Each row (`gamma.len()` long) of `x` normalised: `xhat = (x − mean)/σ`,
    /// `y = xhat·gamma + beta`, and `inv_std` one `1/σ` a row, `σ = √(var + eps)`, the
    /// variance from the centred values (two passes, so that a large mean costs no precision).
    pub(super) fn layer_norm_rows(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
        y: &mut [f32],
        xhat: &mut [f32],
        inv_std: &mut [f32],
    ) {
        let d = gamma.len();
        Arch::new().dispatch(|| {
            let rows = x
                .chunks_exact(d)
                .zip(y.chunks_exact_mut(d))
                .zip(xhat.chunks_exact_mut(d));
            for (((x, y), xh), r) in rows.zip(inv_std.iter_mut()) {
                let mean = sum_of(x) / d as f32;
                for (h, &v) in xh.iter_mut().zip(x) {
                    *h = v - mean;
                }
                let inv = 1.0 / (dot(xh, xh) / d as f32 + eps).sqrt();
                *r = inv;
                for (((h, y), &g), &b) in xh.iter_mut().zip(y.iter_mut()).zip(gamma).zip(beta) {
                    *h *= inv;
                    *y = *h * g + b;
                }
            }
        });
    }

    /// The backward of [`layer_norm_rows`] over its rows: `dx` of each row, and each row's
    /// `grad⊙xhat` and `grad` added to `dgamma` and `dbeta`.
    pub(super) fn layer_norm_backward_rows(
        xhat: &[f32],
        inv_std: &[f32],
        gamma: &[f32],
        grad: &[f32],
        dx: &mut [f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
    ) {
        let d = gamma.len();
        Arch::new().dispatch(|| {
            let rows = xhat
                .chunks_exact(d)
                .zip(grad.chunks_exact(d))
                .zip(dx.chunks_exact_mut(d));
            for (((xh, gr), dx), &r) in rows.zip(inv_std) {
                for ((((o, &g), &w), &h), (dg, db)) in dx
                    .iter_mut()
                    .zip(gr)
                    .zip(gamma)
                    .zip(xh)
                    .zip(dgamma.iter_mut().zip(dbeta.iter_mut()))
                {
                    *o = g * w;
                    *dg += g * h;
                    *db += g;
                }
                let mean_g = sum_of(dx) / d as f32;
                let mean_gx = dot(dx, xh) / d as f32;
                for (o, &h) in dx.iter_mut().zip(xh) {
                    *o = r * (*o - mean_g - h * mean_gx);
                }
            }
        });
    }

    /// `Σ x²` of a block.
    pub(super) fn sum_of_squares(v: &[f32]) -> f32 {
        Arch::new().dispatch(|| dot(v, v))
    }

    /// The per-element coefficients of one AdamW step, the gradient's clipping scale included.
    pub(super) struct AdamW {
        scale: f32,
        beta_1: f32,
        beta_2: f32,
        keep_1: f32,
        keep_2: f32,
        correction_1: f32,
        correction_2: f32,
        epsilon: f32,
        decay: f32,
        lr: f32,
    }

    impl AdamW {
        pub(super) fn new(step: &super::AdamWStep, scale: f32) -> Self {
            let (correction_1, correction_2) = step.bias_corrections();
            Self {
                scale,
                beta_1: step.beta_1,
                beta_2: step.beta_2,
                keep_1: 1.0 - step.beta_1,
                keep_2: 1.0 - step.beta_2,
                correction_1,
                correction_2,
                epsilon: step.epsilon,
                decay: step.decay_factor() as f32,
                lr: step.lr as f32,
            }
        }

        /// The step over one block, in place: each element computed as Burn's `AdamW`
        /// computes it, in the same order, in one pass.
        pub(super) fn update(&self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
            Arch::new().dispatch(|| {
                for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                    let g = g * self.scale;
                    *m = *m * self.beta_1 + g * self.keep_1;
                    *v = *v * self.beta_2 + g * g * self.keep_2;
                    let m_hat = *m / self.correction_1;
                    let v_hat = *v / self.correction_2;
                    *p = *p * self.decay - m_hat / (v_hat.sqrt() + self.epsilon) * self.lr;
                }
            });
        }
    }

    /// `acc += v`, element by element.
    pub(super) fn add_assign(acc: &mut [f32], v: &[f32]) {
        Arch::new().dispatch(|| {
            for (a, &x) in acc.iter_mut().zip(v) {
                *a += x;
            }
        });
    }

    pub(super) fn gelu_in_place(v: &mut [f32]) {
        Arch::new().dispatch(|| {
            for x in v.iter_mut() {
                *x = gelu_scalar(*x);
            }
        });
    }

    pub(super) fn gelu_into(src: &[f32], dst: &mut [f32]) {
        Arch::new().dispatch(|| {
            for (d, &x) in dst.iter_mut().zip(src) {
                *d = gelu_scalar(x);
            }
        });
    }

    pub(super) fn gelu_backward_in_place(x: &[f32], grad: &mut [f32]) {
        Arch::new().dispatch(|| {
            for (g, &x) in grad.iter_mut().zip(x) {
                *g *= gelu_derivative_scalar(x);
            }
        });
    }

    pub(super) fn gelu_backward_into(x: &[f32], grad: &[f32], out: &mut [f32]) {
        Arch::new().dispatch(|| {
            for ((o, &x), &g) in out.iter_mut().zip(x).zip(grad) {
                *o = g * gelu_derivative_scalar(x);
            }
        });
    }
}

/// Under autodiff: the inner backend's kernel forward, and a backward that calls its
/// `exact_gelu_backward` on the saved input.
impl<B: Backend + KernelOps, C: CheckpointStrategy> KernelOps for Autodiff<B, C> {
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct GeluBackward;

        impl<B: Backend + KernelOps> Backward<B, 1> for GeluBackward {
            type State = FloatTensor<B>;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [parent] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                if let Some(node) = parent {
                    grads.register::<B>(node.id, B::exact_gelu_backward(ops.state, grad));
                }
            }
        }

        match GeluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let input = x.primitive().clone();
                let output = B::exact_gelu(input.clone());
                prep.finish(input, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::exact_gelu(x.into_primitive())),
        }
    }
    // `exact_gelu_backward` keeps its default body, Burn's differentiable `gelu_backward`: a
    // second derivative is nothing lopper needs fast.

    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        /// The backward of `O = P·V`, `P = softmax_rows(Q·Kᵀ, bias, scale)`: `dV = Pᵀ·dO`,
        /// `dP = dO·Vᵀ`, `dS = softmax_rows_backward(P, dP)` (with the scale), `dQ = dS·K`,
        /// `dK = dSᵀ·Q`.
        #[derive(Debug)]
        struct AttentionBackward;

        impl<B: Backend + KernelOps> Backward<B, 3> for AttentionBackward {
            /// Q, K, V, P and the scale.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                f64,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_q, node_k, node_v] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (q, k, v, p, scale) = ops.state;
                if let Some(node) = node_v {
                    let dv = B::float_matmul(B::float_swap_dims(p.clone(), 2, 3), grad.clone());
                    grads.register::<B>(node.id, dv);
                }
                if node_q.is_none() && node_k.is_none() {
                    return;
                }
                let dp = B::float_matmul(grad, B::float_swap_dims(v, 2, 3));
                let ds = B::softmax_rows_backward(p, dp, scale);
                if let Some(node) = node_k {
                    let dk = B::float_matmul(B::float_swap_dims(ds.clone(), 2, 3), q);
                    grads.register::<B>(node.id, dk);
                }
                if let Some(node) = node_q {
                    grads.register::<B>(node.id, B::float_matmul(ds, k));
                }
            }
        }

        let bias = bias.into_primitive();
        match AttentionBackward
            .prepare::<C>([q.node(), k.node(), v.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (q, k, v) = (q.into_primitive(), k.into_primitive(), v.into_primitive());
                let scale = 1.0 / (q.shape()[3] as f64).sqrt();
                let scores = B::float_matmul(q.clone(), B::float_swap_dims(k.clone(), 2, 3));
                let p = B::softmax_rows(scores, bias, scale);
                let out = B::float_matmul(p.clone(), v.clone());
                prep.finish((q, k, v, p, scale), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_attention(
                q.into_primitive(),
                k.into_primitive(),
                v.into_primitive(),
                bias,
            )),
        }
    }
    // `softmax_rows` and its backward keep their default bodies (Burn's differentiable
    // operations): under autodiff they are reached only through `fused_attention`, whose
    // backward calls the inner backend's.

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        /// The backward of the layer norm: the inner backend's `layer_norm_backward` on the
        /// saved `x̂`, `1/σ` and `gamma`.
        #[derive(Debug)]
        struct LayerNormBackward;

        impl<B: Backend + KernelOps> Backward<B, 3> for LayerNormBackward {
            /// x̂, 1/σ and gamma.
            type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_gamma, node_beta] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (xhat, inv_std, gamma) = ops.state;
                let (dx, dgamma, dbeta) = B::layer_norm_backward(xhat, inv_std, gamma, grad);
                for (node, g) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        match LayerNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let gamma = gamma.into_primitive();
                let (y, xhat, inv_std) = B::layer_norm_train(
                    x.into_primitive(),
                    gamma.clone(),
                    beta.into_primitive(),
                    epsilon,
                );
                prep.finish((xhat, inv_std, gamma), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_layer_norm(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            )),
        }
    }
    // `layer_norm_train` and `layer_norm_backward` keep their default bodies: under autodiff
    // they are reached only through `fused_layer_norm`, whose backward calls the inner
    // backend's.
}

#[cfg(test)]
mod tests {
    use super::math::{gelu_derivative_scalar, gelu_scalar};

    /// Φ(x) to double precision (the test's reference).
    fn phi(x: f64) -> f64 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }

    /// erfc to about 1e-15 relative: the Taylor series of erf for |z| < 3, the continued
    /// fraction beyond.
    fn erfc(z: f64) -> f64 {
        if z < 0.0 {
            return 2.0 - erfc(-z);
        }
        if z < 3.0 {
            // erf(z) = 2/√π Σ (−1)ⁿ z^(2n+1) / (n! (2n+1))
            let (mut term, mut sum, mut n) = (z, z, 0.0f64);
            while term.abs() > 1e-17 * sum.abs() {
                n += 1.0;
                term *= -z * z / n;
                sum += term / (2.0 * n + 1.0);
            }
            1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum
        } else {
            // erfc(z) = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), from the tail.
            let mut f = z;
            for k in (1..200).rev() {
                f = z + (k as f64 / 2.0) / f;
            }
            (-z * z).exp() / std::f64::consts::PI.sqrt() / f
        }
    }

    #[test]
    fn the_reference_erfc_is_right() {
        // erfc(0.5), erfc(1), erfc(3.5) from tables.
        assert!((erfc(0.5) - 0.479_500_122_186_953_5).abs() < 1e-14);
        assert!((erfc(1.0) - 0.157_299_207_050_285_1).abs() < 1e-14);
        assert!((erfc(3.5) - 7.430_983_723_414_128e-7).abs() < 1e-19);
    }

    #[test]
    fn gelu_and_its_derivative_are_within_1e_6_of_exact() {
        let mut worst = (0.0f64, 0.0f64);
        let mut x = -20.0f64;
        while x <= 20.0 {
            let xf = x as f32;
            // Against the exact values at the f32 input the kernel computes on.
            let xr = f64::from(xf);
            let exact = xr * phi(xr);
            let exact_d =
                phi(xr) + xr * (-0.5 * xr * xr).exp() / (2.0 * std::f64::consts::PI).sqrt();
            worst.0 = worst.0.max((f64::from(gelu_scalar(xf)) - exact).abs());
            worst.1 = worst
                .1
                .max((f64::from(gelu_derivative_scalar(xf)) - exact_d).abs());
            x += 0.000_37;
        }
        assert!(worst.0 < 1e-6, "GELU off by {}", worst.0);
        assert!(worst.1 < 1e-6, "GELU′ off by {}", worst.1);
    }

    #[test]
    fn special_values() {
        assert_eq!(gelu_scalar(0.0), 0.0);
        assert!(gelu_scalar(f32::NAN).is_nan());
        assert!(gelu_derivative_scalar(f32::NAN).is_nan());
        assert_eq!(gelu_scalar(f32::INFINITY), f32::INFINITY);
        assert_eq!(gelu_scalar(1e30), 1e30);
        assert_eq!(gelu_scalar(-1e30), 0.0);
        assert_eq!(gelu_derivative_scalar(50.0), 1.0);
        assert!(gelu_derivative_scalar(-50.0).abs() < 1e-30);
    }
}
