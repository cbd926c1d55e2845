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
//!
//! The element loops are plain Rust that the compiler vectorises; `pulp` compiles them once per
//! instruction set (AVX-512, AVX2 + FMA, the baseline) and picks the best this CPU has at run
//! time, without `unsafe` here. Rayon splits the work into blocks across the cores.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, backend_extension};
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
                par_blocks_mut(x.storage_mut::<f32>(), super::math::gelu_in_place);
                return x;
            }
            let src = x.storage::<f32>();
            let mut out = vec![0f32; src.len()];
            par_blocks_zip(src, &mut out, super::math::gelu_into);
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

    fn par_blocks_mut(v: &mut [f32], f: fn(&mut [f32])) {
        v.par_chunks_mut(BLOCK).for_each(f);
    }

    fn par_blocks_zip(src: &[f32], dst: &mut [f32], f: fn(&[f32], &mut [f32])) {
        dst.par_chunks_mut(BLOCK)
            .zip(src.par_chunks(BLOCK))
            .for_each(|(d, s)| f(s, d));
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
