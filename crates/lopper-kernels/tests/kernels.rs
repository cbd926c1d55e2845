//! lopper's kernels against Burn's decomposed operations on the same device: values and
//! gradients over random shapes and values, contiguous or not, tracked or not.

#![cfg(feature = "flex")]
#![allow(clippy::unwrap_used)]

use burn::tensor::activation;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
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

/// The bias shapes attention takes, as the encoder and its callers make them.
#[derive(Debug, Clone, Copy)]
enum Bias {
    /// A padding mask `[batch, 1, 1, seq_k]`: 0, or `f32::MIN` on masked keys.
    Padding,
    /// The padding mask expanded to `[batch, 1, seq_q, seq_k]` (a view, stride 0).
    Expanded,
    /// A dense bias `[1, 1, seq_q, seq_k]` shared by the batch.
    Dense,
}

/// A bias of `kind` for `b` sequences, `tq` queries and `tk` keys, with every sequence keeping
/// its first key (the encoder's `[CLS]`).
fn bias(kind: Bias, b: usize, tq: usize, tk: usize, seed: u64, d: &Device) -> Tensor<4> {
    match kind {
        Bias::Padding | Bias::Expanded => {
            let mut rng = seed;
            let mask: Vec<f32> = (0..b * tk)
                .map(|i| {
                    rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    if !i.is_multiple_of(tk) && (rng >> 33).is_multiple_of(3) {
                        f32::MIN
                    } else {
                        0.0
                    }
                })
                .collect();
            let m = Tensor::<4>::from_data(TensorData::new(mask, [b, 1, 1, tk]), d);
            match kind {
                Bias::Expanded => m.expand([b, 1, tq, tk]),
                _ => m,
            }
        }
        Bias::Dense => Tensor::random([1, 1, tq, tk], Distribution::Normal(0.0, 2.0), d),
    }
}

/// Burn's attention, the reference.
fn burns(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, bias: Tensor<4>) -> Tensor<4> {
    let [b, _, tq, _] = q.dims();
    let tk = k.dims()[2];
    let bias = Some(bias.expand([b, 1, tq, tk]));
    attention(q, k, v, None, bias, AttentionModuleOptions::default())
}

/// `[b, h, t, dh]` as the encoder makes it: `[b, t, h, dh]` with the middle dimensions
/// swapped (a strided view).
fn heads(b: usize, h: usize, t: usize, dh: usize, d: &Device) -> Tensor<4> {
    let x: Tensor<4> = Tensor::random([b, t, h, dh], Distribution::Normal(0.0, 1.5), d);
    x.swap_dims(1, 2)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn attention_matches_burns(
        b in 1usize..4,
        h in 1usize..4,
        tq in 1usize..40,
        tk in 1usize..40,
        dh in 1usize..34,
        kind in prop::sample::select(vec![Bias::Padding, Bias::Expanded, Bias::Dense]),
        seed in 0u64..1000,
    ) {
        // Tracked, so lopper's softmax computes it (inference runs flex's own attention).
        let d = device().autodiff();
        d.seed(seed);
        let (q, k, v) = (heads(b, h, tq, dh, &d), heads(b, h, tk, dh, &d), heads(b, h, tk, dh, &d));
        let m = bias(kind, b, tq, tk, seed, &d);
        let want = values(burns(q.clone(), k.clone(), v.clone(), m.clone()));
        let got = values(kernels::attention(q.require_grad(), k, v, m));
        prop_assert!(max_diff(&got, &want) <= 1e-5, "{}", max_diff(&got, &want));
    }

    #[test]
    fn attention_gradients_match_burns(
        b in 1usize..3,
        h in 1usize..4,
        t in 1usize..24,
        dh in 1usize..20,
        kind in prop::sample::select(vec![Bias::Padding, Bias::Expanded, Bias::Dense]),
        seed in 0u64..1000,
    ) {
        let d = device().autodiff();
        d.seed(seed);
        let q = heads(b, h, t, dh, &d).require_grad();
        let k = heads(b, h, t, dh, &d).require_grad();
        let v = heads(b, h, t, dh, &d).require_grad();
        let m = bias(kind, b, t, t, seed, &d);
        let w: Tensor<4> = Tensor::random([b, h, t, dh], Distribution::Uniform(-1.0, 1.0), &d);
        type Attend = dyn Fn(Tensor<4>, Tensor<4>, Tensor<4>, Tensor<4>) -> Tensor<4>;
        let grads_of = |f: &Attend| {
            let y = f(q.clone(), k.clone(), v.clone(), m.clone());
            let grads = (y * w.clone()).sum().backward();
            [&q, &k, &v].map(|x| values(x.grad(&grads).unwrap()))
        };
        let want = grads_of(&burns);
        let got = grads_of(&kernels::attention);
        for (name, (g, w)) in ["q", "k", "v"].iter().zip(got.iter().zip(&want)) {
            prop_assert!(max_diff(g, w) <= 1e-4, "d{name}: {}", max_diff(g, w));
        }
        // Untracked inputs on the autodiff device take the inner backend's forward.
        let [q, k, v] = [&q, &k, &v].map(|x| x.clone().detach());
        let want = values(burns(q.clone(), k.clone(), v.clone(), m.clone()));
        let got = values(kernels::attention(q, k, v, m));
        prop_assert!(max_diff(&got, &want) <= 1e-5);
    }
}

#[test]
fn attention_of_a_row_masked_everywhere_is_zero_as_burns() {
    // Tracked inputs: the path that runs lopper's softmax (inference runs Burn's attention).
    let d = device().autodiff();
    let (q, k, v) = (
        heads(2, 3, 5, 8, &d).require_grad(),
        heads(2, 3, 5, 8, &d),
        heads(2, 3, 5, 8, &d),
    );
    let mut m = vec![0f32; 5 * 5];
    m[2 * 5..3 * 5].fill(f32::NEG_INFINITY);
    let m = Tensor::<4>::from_data(TensorData::new(m, [1, 1, 5, 5]), &d);
    let want = values(burns(q.clone(), k.clone(), v.clone(), m.clone()));
    let got = values(kernels::attention(q, k, v, m));
    assert!(got.iter().all(|x| x.is_finite()));
    assert!(max_diff(&got, &want) <= 1e-5);
    // Query 2 of every head of every sequence attends to nothing.
    let got = Tensor::<4>::from_data(TensorData::new(got, [2, 3, 5, 8]), &d);
    let row = values(got.narrow(2, 2, 1));
    assert!(row.iter().all(|&x| x == 0.0));
}

#[test]
fn attention_at_the_encoders_shape_reaches_lopper_kernel() {
    // Wider than one block of the parallel split, as the encoder's [batch, 12, 128, 128];
    // tracked, as in training (inference runs flex's own fused attention).
    let d = device().autodiff();
    let (q, k, v) = (
        heads(4, 12, 128, 32, &d).require_grad(),
        heads(4, 12, 128, 32, &d),
        heads(4, 12, 128, 32, &d),
    );
    let m = bias(Bias::Padding, 4, 128, 128, 7, &d);
    let want = values(burns(q.clone(), k.clone(), v.clone(), m.clone()));
    let got = values(kernels::attention(q, k, v, m));
    assert!(max_diff(&got, &want) <= 1e-5);
    assert!(
        got.iter()
            .zip(&want)
            .any(|(a, b)| a.to_bits() != b.to_bits())
    );
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

/// `|a − b| ≤ tol·max(1, |b|)` everywhere: for sums over many rows, whose size grows with them.
fn close(a: &[f32], b: &[f32], tol: f32) -> bool {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= tol * y.abs().max(1.0))
}

/// Burn's layer norm, the reference (its decomposed form under autodiff).
fn burns_norm(x: Tensor<3>, gamma: Tensor<1>, beta: Tensor<1>) -> Tensor<3> {
    burn::tensor::module::layer_norm(x, gamma, Some(beta), 1e-12)
}

/// `[b, t, d]` with every row's values around its own offset (a residual stream's rows do
/// not have mean 0), transposed from `[b, d, t]` when `strided`.
fn stream(b: usize, t: usize, d: usize, offset: f64, strided: bool, dev: &Device) -> Tensor<3> {
    let x: Tensor<3> = if strided {
        Tensor::<3>::random([b, d, t], Distribution::Normal(0.0, 2.0), dev).swap_dims(1, 2)
    } else {
        Tensor::random([b, t, d], Distribution::Normal(0.0, 2.0), dev)
    };
    let shift: Tensor<3> = Tensor::random([b, t, 1], Distribution::Uniform(-offset, offset), dev);
    x + shift
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn layer_norm_and_its_gradients_match_burns(
        b in 1usize..4,
        t in 1usize..40,
        d in 1usize..400,
        offset in prop::sample::select(vec![0.5f64, 50.0]),
        strided in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let dev = device().autodiff();
        dev.seed(seed);
        let x = stream(b, t, d, offset, strided, &dev).require_grad();
        let gamma = Tensor::<1>::random([d], Distribution::Normal(1.0, 0.5), &dev).require_grad();
        let beta = Tensor::<1>::random([d], Distribution::Normal(0.0, 0.5), &dev).require_grad();
        let w: Tensor<3> = Tensor::random([b, t, d], Distribution::Uniform(-1.0, 1.0), &dev);
        type Norm = dyn Fn(Tensor<3>, Tensor<1>, Tensor<1>) -> Tensor<3>;
        let run = |f: &Norm| {
            let y = f(x.clone(), gamma.clone(), beta.clone());
            let out = values(y.clone());
            let grads = (y * w.clone()).sum().backward();
            let g = [
                values(x.grad(&grads).unwrap()),
                values(gamma.grad(&grads).unwrap()),
                values(beta.grad(&grads).unwrap()),
            ];
            (out, g)
        };
        let (want, want_grads) = run(&burns_norm);
        let (got, got_grads) = run(&|x, g, b| kernels::layer_norm(x, g, b, 1e-12));
        prop_assert!(max_diff(&got, &want) <= 1e-4, "y: {}", max_diff(&got, &want));
        for (name, (g, w)) in ["x", "gamma", "beta"].iter().zip(got_grads.iter().zip(&want_grads)) {
            prop_assert!(close(g, w, 1e-4), "d{name}: {}", max_diff(g, w));
        }
        // Untracked inputs on the autodiff device take the inner backend's forward.
        let want = values(burns_norm(x.clone().detach(), gamma.clone().detach(), beta.clone().detach()));
        let got = values(kernels::layer_norm(x.detach(), gamma.detach(), beta.detach(), 1e-12));
        prop_assert!(max_diff(&got, &want) <= 1e-4);
    }
}

#[test]
fn layer_norm_at_the_encoders_shape_is_lopper_kernel_and_deterministic() {
    // [8, 128, 384], wider than one block of the parallel split, tracked as in training.
    let dev = device().autodiff();
    dev.seed(11);
    let x = stream(8, 128, 384, 5.0, false, &dev).require_grad();
    let gamma = Tensor::<1>::random([384], Distribution::Normal(1.0, 0.5), &dev).require_grad();
    let beta = Tensor::<1>::random([384], Distribution::Normal(0.0, 0.5), &dev).require_grad();
    let w: Tensor<3> = Tensor::random([8, 128, 384], Distribution::Uniform(-1.0, 1.0), &dev);
    let run = || {
        let y = kernels::layer_norm(x.clone(), gamma.clone(), beta.clone(), 1e-12);
        let out = values(y.clone());
        let grads = (y * w.clone()).sum().backward();
        let dgamma = values(gamma.grad(&grads).unwrap());
        (out, values(x.grad(&grads).unwrap()), dgamma)
    };
    let (y, dx, dgamma) = run();
    let want = values(burns_norm(x.clone(), gamma.clone(), beta.clone()));
    assert!(max_diff(&y, &want) <= 1e-4);
    assert!(y.iter().zip(&want).any(|(a, b)| a.to_bits() != b.to_bits()));
    // The same inputs give the same bits, the parameter gradients' sums over rows included.
    let (y2, dx2, dgamma2) = run();
    assert!(y == y2 && dx == dx2 && dgamma == dgamma2);
}

#[test]
fn layer_norm_of_a_constant_row_is_beta_with_finite_gradients() {
    let dev = device().autodiff();
    let x = Tensor::<3>::full([1, 2, 6], 3.5, &dev).require_grad();
    let gamma = Tensor::<1>::ones([6], &dev).require_grad();
    let beta = Tensor::<1>::from_floats([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], &dev).require_grad();
    let y = kernels::layer_norm(x.clone(), gamma.clone(), beta.clone(), 1e-12);
    assert_eq!(values(y.clone()), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0].repeat(2));
    let grads = y.sum().backward();
    assert!(
        values(x.grad(&grads).unwrap())
            .iter()
            .all(|g| g.is_finite())
    );
    assert_eq!(values(beta.grad(&grads).unwrap()), [2.0; 6]);
}

/// One AdamW step in `f64`, as Burn's `AdamW` after its `GradientClipping::Norm` defines it.
fn adamw_reference(
    p: &[f32],
    g: &[f32],
    m: &[f32],
    v: &[f32],
    s: &kernels::AdamWStep,
) -> [Vec<f64>; 3] {
    let norm = g.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let scale = s.clip_norm.map_or(1.0, |c| (f64::from(c) / norm).min(1.0));
    let (b1, b2) = (f64::from(s.beta_1), f64::from(s.beta_2));
    let mut out = [vec![], vec![], vec![]];
    for i in 0..p.len() {
        let g = f64::from(g[i]) * scale;
        let m = f64::from(m[i]) * b1 + g * (1.0 - b1);
        let v = f64::from(v[i]) * b2 + g * g * (1.0 - b2);
        let m_hat = m / (1.0 - b1.powi(s.time));
        let v_hat = v / (1.0 - b2.powi(s.time));
        let p = f64::from(p[i]) * (1.0 - s.lr * f64::from(s.weight_decay))
            - s.lr * m_hat / (v_hat.sqrt() + f64::from(s.epsilon));
        out[0].push(p);
        out[1].push(m);
        out[2].push(v);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn adamw_update_matches_the_reference(
        rows in 1usize..60,
        cols in 1usize..600,
        time in 1i32..50,
        first in any::<bool>(),
        clip in prop::sample::select(vec![None, Some(1e-3f32), Some(1.0), Some(1e6)]),
        seed in 0u64..1000,
    ) {
        let d = device();
        d.seed(seed);
        let t = |mean: f64, sd: f64| Tensor::<2>::random([rows, cols], Distribution::Normal(mean, sd), &d);
        let (p, g) = (t(0.0, 0.5), t(0.0, 1e-2));
        let (m, v) = if first {
            (Tensor::zeros([rows, cols], &d), Tensor::zeros([rows, cols], &d))
        } else {
            (t(0.0, 1e-3), t(0.0, 1e-5).abs())
        };
        let step = kernels::AdamWStep {
            lr: 2e-3,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.01,
            time: if first { 1 } else { time },
            clip_norm: clip,
        };
        let [pv, gv, mv, vv] = [&p, &g, &m, &v].map(|x| values(x.clone()));
        let want = adamw_reference(&pv, &gv, &mv, &vv, &step);
        let (p2, m2, v2) = kernels::adamw_update(p, g, m, v, step);
        for (name, (got, want)) in ["param", "m", "v"].iter().zip([p2, m2, v2].into_iter().zip(&want)) {
            // f32 rounding, relative to each element and to the tensor's largest (a moment
            // near 0 is a difference of two rounded terms).
            let got = values(got);
            let top = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            let worst = got
                .iter()
                .zip(want)
                .map(|(&a, &b)| (f64::from(a) - b).abs() / (b.abs() + 0.1 * top).max(1e-30))
                .fold(0.0, f64::max);
            prop_assert!(worst <= 1e-5, "{name}: {worst}");
        }
    }
}
