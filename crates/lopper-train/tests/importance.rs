//! Mask gradients (the baselines' importance scores) are the gradients they claim to be:
//! central finite differences of the loss in each mask agree, and a head that cannot change
//! the output has none.

#![allow(clippy::unwrap_used)]

mod common;

use burn::module::Param;
use burn::tensor::{Device, Int, Tensor, TensorData};
use common::config;
use lopper_core::seeded_rng;
use lopper_model::{Batch, EncoderConfig, Masks, SuperNet};
use lopper_train::{Targets, mask_gradients, task_loss};
use rand::RngExt;

fn batch(c: &EncoderConfig, device: &Device, seed: u64) -> (Batch, Targets) {
    let mut rng = seeded_rng(seed);
    let ids: Vec<Vec<u32>> = (0..6)
        .map(|_| (0..12).map(|_| rng.random_range(1..60)).collect())
        .collect();
    let labels: Vec<i64> = (0..6).map(|i| i % 3).collect();
    let b = Batch::new(&ids, None, None, c, device).unwrap();
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [6]), device);
    (b, Targets::Classes(y))
}

fn ones(c: &EncoderConfig) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    (
        vec![vec![1.0; c.num_heads]; c.num_layers],
        vec![vec![1.0; c.intermediate_size]; c.num_layers],
    )
}

/// `net` with every projection's weights scaled up 25 times: a random network at the usual
/// 0.02 scale hardly depends on any one head, which would leave the check below at float
/// resolution.
fn loud(mut net: SuperNet) -> SuperNet {
    let device = net.device().clone();
    let scale = |d: &mut lopper_model::Dense| {
        let dims = d.weight.val().dims();
        let v: Vec<f32> = d.weight.val().into_data().try_to_vec().unwrap();
        let v: Vec<f32> = v.iter().map(|x| x * 25.0).collect();
        d.weight = Param::from_data(TensorData::new(v, dims), &device);
    };
    let mut w = net.weights().clone();
    for layer in &mut w.layers {
        let a = layer.attention.as_mut().unwrap();
        for d in [&mut a.query, &mut a.key, &mut a.value, &mut a.output] {
            scale(d);
        }
        let f = layer.ffn.as_mut().unwrap();
        scale(&mut f.intermediate);
        scale(&mut f.output);
    }
    if let Some(c) = w.classifier.as_mut() {
        scale(&mut c.out);
    }
    net.set_weights(w);
    net
}

/// The loss at masks `heads`/`units`, on the device without autodiff.
fn loss(net: &SuperNet, data: &(Batch, Targets), heads: &[Vec<f32>], units: &[Vec<f32>]) -> f64 {
    let masks = Masks::from_values(heads, units, net.device(), false);
    let logits = net
        .forward_with_masks(&data.0, &masks)
        .unwrap()
        .logits
        .unwrap();
    f64::from(task_loss(logits, &data.1).into_scalar::<f32>())
}

#[test]
fn mask_gradients_match_finite_differences() {
    let c = config();
    let auto = lopper_model::default_device().autodiff();
    let net = loud(SuperNet::random(c.clone(), &auto, 5).unwrap());
    let plain = net.valid();
    let data = batch(&c, &auto, 3);
    let plain_data = batch(&c, plain.device(), 3);
    let (heads, units) = ones(&c);
    let g = mask_gradients(&net, std::slice::from_ref(&data), &heads, &units, 1).unwrap();
    let eps = 0.05f32;
    let mut checked = 0;
    for l in 0..c.num_layers {
        for h in 0..c.num_heads {
            let (mut up, mut down) = (heads.clone(), heads.clone());
            up[l][h] += eps;
            down[l][h] -= eps;
            let fd = (loss(&plain, &plain_data, &up, &units)
                - loss(&plain, &plain_data, &down, &units))
                / (2.0 * f64::from(eps));
            // One batch: the mean |g| and the mean g² are |g| and g².
            let grad = g.heads_abs[l][h];
            assert!(
                (grad - fd.abs()).abs() <= 2e-4 + 0.05 * fd.abs(),
                "head {l}.{h}: gradient {grad}, finite difference {fd}"
            );
            assert!((g.heads_sq[l][h] - grad * grad).abs() <= 1e-12 + 1e-6 * grad * grad);
            checked += usize::from(fd.abs() > 1e-2);
        }
        for u in [0, 7, 23] {
            let (mut up, mut down) = (units.clone(), units.clone());
            up[l][u] += eps;
            down[l][u] -= eps;
            let fd = (loss(&plain, &plain_data, &heads, &up)
                - loss(&plain, &plain_data, &heads, &down))
                / (2.0 * f64::from(eps));
            let grad = g.units_abs[l][u];
            assert!(
                (grad - fd.abs()).abs() <= 2e-4 + 0.05 * fd.abs(),
                "unit {l}.{u}: gradient {grad}, finite difference {fd}"
            );
        }
    }
    // Not a vacuous check: some heads move the loss clearly.
    assert!(checked >= 2, "only {checked} heads with a clear gradient");
}

#[test]
fn a_head_that_cannot_change_the_output_has_no_importance() {
    let c = config();
    let auto = lopper_model::default_device().autodiff();
    let mut net = SuperNet::random(c.clone(), &auto, 8).unwrap();
    // Plant two dead heads: zero value weights and biases make their context 0 whatever the
    // attention does, so their masks cannot change the loss.
    let dh = c.hidden_size / c.num_heads;
    let mut weights = net.weights().clone();
    for (l, h) in [(0usize, 2usize), (1, 0)] {
        let value = &mut weights.layers[l].attention.as_mut().unwrap().value;
        let mut w: Vec<f32> = value.weight.val().into_data().try_to_vec().unwrap();
        let [rows, cols] = value.weight.val().dims();
        for r in 0..rows {
            for col in h * dh..(h + 1) * dh {
                w[r * cols + col] = 0.0;
            }
        }
        let mut b: Vec<f32> = value.bias.val().into_data().try_to_vec().unwrap();
        b[h * dh..(h + 1) * dh].iter_mut().for_each(|x| *x = 0.0);
        value.weight = Param::from_data(TensorData::new(w, [rows, cols]), &auto);
        value.bias = Param::from_data(TensorData::new(b, [cols]), &auto);
    }
    net.set_weights(weights);
    let data: Vec<_> = (0..3).map(|s| batch(&c, &auto, s)).collect();
    let (heads, units) = ones(&c);
    let g = mask_gradients(&net, &data, &heads, &units, 1).unwrap();
    assert_eq!(g.batches, 3);
    for l in 0..c.num_layers {
        for h in 0..c.num_heads {
            let dead = (l, h) == (0, 2) || (l, h) == (1, 0);
            let i = g.heads_abs[l][h];
            if dead {
                assert_eq!(i, 0.0, "planted head {l}.{h}");
            } else {
                assert!(i > 0.0, "head {l}.{h} has importance {i}");
            }
        }
    }
    // Every planted head ranks below every live one.
    let mut ranked: Vec<(f64, usize, usize)> = (0..c.num_layers)
        .flat_map(|l| (0..c.num_heads).map(move |h| (l, h)))
        .map(|(l, h)| (g.heads_abs[l][h], l, h))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let lowest: Vec<(usize, usize)> = ranked[..2].iter().map(|r| (r.1, r.2)).collect();
    assert!(
        lowest.contains(&(0, 2)) && lowest.contains(&(1, 0)),
        "{ranked:?}"
    );
    // Michel et al.'s iterative pruning removes the planted heads first: with a quarter of the
    // eight heads per step, the first step takes exactly those two; the steps are nested and
    // end with no head.
    let mut heard = Vec::new();
    let steps = lopper_train::prune_heads_iteratively(&net, &data, 0.25, 1, &mut |s, left| {
        heard.push((s, left))
    })
    .unwrap();
    assert_eq!(heard, [(1, 6), (2, 4), (3, 3), (4, 2), (5, 1), (6, 0)]);
    assert_eq!(steps[0], vec![vec![0, 1, 2, 3]; 2]);
    assert_eq!(steps[1], vec![vec![0, 1, 3], vec![1, 2, 3]]);
    let count = |s: &Vec<Vec<usize>>| s.iter().map(Vec::len).sum::<usize>();
    let counts: Vec<usize> = steps.iter().map(count).collect();
    assert_eq!(counts, [8, 6, 4, 3, 2, 1, 0], "{steps:?}");
    for w in steps.windows(2) {
        for (a, b) in w[0].iter().zip(&w[1]) {
            assert!(b.iter().all(|x| a.contains(x)), "not nested: {steps:?}");
        }
    }
    assert!(lopper_train::prune_heads_iteratively(&net, &data, 1.0, 1, &mut |_, _| {}).is_err());
    // Bad input is an error, not a panic.
    assert!(mask_gradients(&net, &[], &heads, &units, 1).is_err());
    assert!(mask_gradients(&net, &data, &heads[..1], &units, 1).is_err());
}
