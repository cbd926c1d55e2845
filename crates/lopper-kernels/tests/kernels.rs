//! lopper's kernels against Burn's decomposed operations on the same device: values and
//! gradients over random shapes and values, contiguous or not, tracked or not.

#![cfg(feature = "flex")]
#![allow(clippy::unwrap_used)]

use burn::tensor::activation;
use burn::tensor::{Device, Distribution, Tensor};
use lopper_kernels as kernels;
use proptest::prelude::*;

fn device() -> Device {
    Device::flex()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// `[rows, cols]` of values spread over GELU's interesting range and beyond.
fn input(rows: usize, cols: usize, scale: f64, device: &Device) -> Tensor<2> {
    Tensor::random([rows, cols], Distribution::Normal(0.0, scale), device)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn gelu_matches_burns_exact_gelu(
        rows in 1usize..70,
        cols in 1usize..700,
        scale in prop::sample::select(vec![0.5f64, 3.0, 30.0]),
        transposed in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let d = device();
        d.seed(seed);
        let mut x = input(rows, cols, scale, &d);
        if transposed {
            // A strided view: the kernel must read it in logical order.
            x = x.transpose();
        }
        let want = values(activation::gelu(x.clone()));
        let got = values(kernels::gelu(x.clone()));
        prop_assert!(max_diff(&got, &want) <= 1e-6, "{}", max_diff(&got, &want));
        // A narrowed view of it too (an offset into the storage).
        if x.dims()[1] > 2 {
            let part = x.clone().narrow(1, 1, x.dims()[1] - 2);
            let want = values(activation::gelu(part.clone()));
            let got = values(kernels::gelu(part));
            prop_assert!(max_diff(&got, &want) <= 1e-6);
        }
    }

    #[test]
    fn gelu_gradients_match_burns(
        rows in 1usize..40,
        cols in 1usize..400,
        scale in prop::sample::select(vec![0.5f64, 3.0]),
        seed in 0u64..1000,
    ) {
        let d = device().autodiff();
        d.seed(seed);
        let x = input(rows, cols, scale, &d).require_grad();
        // A random weighting in [−1, 1], so that every element's gradient differs and is
        // GELU′'s error at most.
        let w: Tensor<2> = Tensor::random([rows, cols], Distribution::Uniform(-1.0, 1.0), &d);
        let grad_of = |f: &dyn Fn(Tensor<2>) -> Tensor<2>| {
            let y = f(x.clone());
            let grads = (y * w.clone()).sum().backward();
            (values(x.grad(&grads).unwrap()), grads)
        };
        let (want, _) = grad_of(&|t| activation::gelu(t));
        let (got, _) = grad_of(&|t| kernels::gelu(t));
        prop_assert!(max_diff(&got, &want) <= 1e-6, "{}", max_diff(&got, &want));
        // The forward under autodiff is the kernel's too.
        let want = values(activation::gelu(x.clone()));
        let got = values(kernels::gelu(x.clone()));
        prop_assert!(max_diff(&got, &want) <= 1e-6);
    }
}

#[test]
fn gelu_keeps_shape_and_handles_empty_and_wide_tensors() {
    let d = device();
    let x: Tensor<3> = Tensor::random([2, 3, 5], Distribution::Normal(0.0, 2.0), &d);
    assert_eq!(kernels::gelu(x).dims(), [2, 3, 5]);
    let empty: Tensor<2> = Tensor::zeros([0, 4], &d);
    assert_eq!(kernels::gelu(empty).dims(), [0, 4]);
    // More elements than one block of the parallel split.
    let wide: Tensor<2> = Tensor::random([64, 1536], Distribution::Normal(0.0, 2.0), &d);
    let want = values(activation::gelu(wide.clone()));
    let got = values(kernels::gelu(wide));
    assert!(max_diff(&got, &want) <= 1e-6);
    // The values are lopper's kernel's, not libm's rounded the same way everywhere (the
    // extension's dispatch reached it).
    assert!(
        got.iter()
            .zip(&want)
            .any(|(a, b)| a.to_bits() != b.to_bits())
    );
}
