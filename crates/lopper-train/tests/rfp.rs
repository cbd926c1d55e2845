//! Kwon et al.'s mask tuning on a tiny BERT: scale factors folded into the weights compute
//! what the masked network computes, an unpruned network tunes to all ones, and a pruned head
//! or unit that duplicates a kept one is recovered exactly (the kept one's factor becomes 2).

#![allow(clippy::unwrap_used)]

mod common;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use common::config;
use lopper_core::seeded_rng;
use lopper_model::{Batch, EncoderConfig, Masks, SuperNet};
use lopper_train::{KeepMasks, TuneSettings, fold_scales, tune_masks};
use rand::RngExt;

fn batches(c: &EncoderConfig, device: &Device) -> Vec<Batch> {
    let mut rng = seeded_rng(11);
    (0..3)
        .map(|i| {
            // Ragged lengths: padding must stay out of the sums.
            let ids: Vec<Vec<u32>> = (0..5)
                .map(|j| {
                    (0..(6 + (i + j) % 5))
                        .map(|_| rng.random_range(1..60))
                        .collect()
                })
                .collect();
            Batch::new(&ids, None, None, c, device).unwrap()
        })
        .collect()
}

fn all(c: &EncoderConfig) -> KeepMasks {
    KeepMasks {
        heads: vec![vec![true; c.num_heads]; c.num_layers],
        units: vec![vec![true; c.intermediate_size]; c.num_layers],
    }
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().unwrap()
}

fn rows(p: &Param<Tensor<2>>) -> (Vec<f32>, [usize; 2]) {
    (p.val().into_data().try_to_vec().unwrap(), p.val().dims())
}

#[test]
fn folded_scales_compute_the_masked_network() {
    let c = config();
    let device = lopper_model::default_device();
    let net = SuperNet::random(c.clone(), &device, 2).unwrap();
    let heads = vec![vec![0.5, 0.0, 1.5, 2.0], vec![1.0, -0.5, 0.0, 1.25]];
    let units: Vec<Vec<f32>> = (0..2)
        .map(|l| (0..24).map(|u| ((u * 7 + l) % 5) as f32 * 0.4).collect())
        .collect();
    let scaled = net.with_scales(&heads, &units).unwrap();
    for b in batches(&c, &device) {
        let masks = Masks::from_values(&heads, &units, &device, false);
        let masked = values(net.forward_with_masks(&b, &masks).unwrap().logits.unwrap());
        let folded = values(scaled.forward_full(&b).unwrap().logits.unwrap());
        for (x, y) in masked.iter().zip(&folded) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
    assert!(net.with_scales(&heads[..1], &units).is_err());
}

#[test]
fn an_unpruned_network_tunes_to_ones() {
    let c = config();
    let device = lopper_model::default_device();
    let net = SuperNet::random(c.clone(), &device, 3).unwrap();
    let settings = TuneSettings {
        damping: 0.0,
        max_scale: 10.0,
        last_layer_first_token: true,
    };
    let mut layers = Vec::new();
    let t = tune_masks(&net, &batches(&c, &device), &all(&c), &settings, &mut |l| {
        layers.push(l)
    })
    .unwrap();
    assert_eq!(layers, [1, 2]);
    assert!(t.skipped.is_empty(), "{:?}", t.skipped);
    for v in t.heads.iter().chain(&t.units).flatten() {
        assert!((v - 1.0).abs() < 2e-3, "scale {v}");
    }
}

#[test]
fn a_duplicated_head_and_unit_are_recovered() {
    let c = config();
    let device = lopper_model::default_device();
    let mut net = SuperNet::random(c.clone(), &device, 4).unwrap();
    let dh = c.hidden_size / c.num_heads;
    // Layer 0: head 1 a copy of head 0 (query, key, value columns and output rows); unit 5 a
    // copy of unit 2 (intermediate column and bias, output row).
    let mut w = net.weights().clone();
    let copy_cols = |p: &mut Param<Tensor<2>>, from: usize, to: usize, width: usize| {
        let (mut v, [r, cols]) = rows(p);
        for row in 0..r {
            for k in 0..width {
                v[row * cols + to * width + k] = v[row * cols + from * width + k];
            }
        }
        *p = Param::from_data(TensorData::new(v, [r, cols]), &device);
    };
    let copy_rows = |p: &mut Param<Tensor<2>>, from: usize, to: usize, width: usize| {
        let (mut v, [r, cols]) = rows(p);
        for k in 0..width * cols {
            v[to * width * cols + k] = v[from * width * cols + k];
        }
        *p = Param::from_data(TensorData::new(v, [r, cols]), &device);
    };
    let copy_bias = |p: &mut Param<Tensor<1>>, from: usize, to: usize, width: usize| {
        let mut v: Vec<f32> = p.val().into_data().try_to_vec().unwrap();
        for k in 0..width {
            v[to * width + k] = v[from * width + k];
        }
        let n = v.len();
        *p = Param::from_data(TensorData::new(v, [n]), &device);
    };
    {
        let a = w.layers[0].attention.as_mut().unwrap();
        for d in [&mut a.query, &mut a.key, &mut a.value] {
            copy_cols(&mut d.weight, 0, 1, dh);
            copy_bias(&mut d.bias, 0, 1, dh);
        }
        copy_rows(&mut a.output.weight, 0, 1, dh);
        let f = w.layers[0].ffn.as_mut().unwrap();
        copy_cols(&mut f.intermediate.weight, 2, 5, 1);
        copy_bias(&mut f.intermediate.bias, 2, 5, 1);
        copy_rows(&mut f.output.weight, 2, 5, 1);
    }
    net.set_weights(w);
    let mut masks = all(&c);
    masks.heads[0][1] = false;
    masks.units[0][5] = false;
    let settings = TuneSettings {
        damping: 0.0,
        max_scale: 10.0,
        last_layer_first_token: true,
    };
    let data = batches(&c, &device);
    let t = tune_masks(&net, &data, &masks, &settings, &mut |_| {}).unwrap();
    assert!(t.skipped.is_empty(), "{:?}", t.skipped);
    let near = |v: f32, want: f32| (v - want).abs() < 5e-3;
    assert!(near(t.heads[0][0], 2.0), "{:?}", t.heads[0]);
    assert_eq!(t.heads[0][1], 0.0);
    assert!(
        t.heads[0][2..].iter().all(|&v| near(v, 1.0)),
        "{:?}",
        t.heads[0]
    );
    assert!(near(t.units[0][2], 2.0), "{:?}", t.units[0]);
    assert_eq!(t.units[0][5], 0.0);
    // Layer 0 now reproduces the unpruned layer exactly, so layer 1 tunes to ones.
    assert!(t.heads[1].iter().chain(&t.units[1]).all(|&v| near(v, 1.0)));
    // Folded into a full-size checkpoint, the pruned sub-network computes the unpruned
    // network's logits.
    let (h, u) = fold_scales(&t, &masks);
    let tuned = net.with_scales(&h, &u).unwrap();
    let subnet = masks.subnet(&net.arch()).unwrap();
    for b in &data {
        let want = values(net.forward_full(b).unwrap().logits.unwrap());
        let got = values(
            tuned
                .forward(b, &subnet, lopper_model::Mode::Sliced)
                .unwrap()
                .logits
                .unwrap(),
        );
        for (x, y) in want.iter().zip(&got) {
            assert!((x - y).abs() < 1e-3, "{x} vs {y}");
        }
    }
    // A factor over the limit leaves the block at its 0/1 mask, and says so.
    let strict = TuneSettings {
        damping: 0.0,
        max_scale: 1.5,
        last_layer_first_token: true,
    };
    let t = tune_masks(&net, &data, &masks, &strict, &mut |_| {}).unwrap();
    assert!(
        t.skipped
            .iter()
            .any(|s| s.layer == 0 && s.block == lopper_train::Block::Attention),
        "{:?}",
        t.skipped
    );
    assert_eq!(&t.heads[0], &[1.0, 0.0, 1.0, 1.0]);
}
