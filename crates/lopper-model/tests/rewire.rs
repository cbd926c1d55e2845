//! Rewiring on tiny random encoders: the full network computes the same function, the rewired
//! order is by decreasing importance, and a prefix sub-network of the rewired network is the
//! original network's sub-network of the most important heads and units.

#![allow(clippy::unwrap_used)]

mod common;

use common::{device, tensor_diff as max_diff, tiny};
use lopper_core::{LayerKeep, Subnet};
use lopper_model::{Batch, EncoderConfig, Family, HeadKind, Mode, Rewiring, SuperNet};
use proptest::prelude::*;

fn batches(config: &EncoderConfig) -> Vec<Batch> {
    let ids = [
        vec![vec![2, 7, 9, 4, 11, 3], vec![2, 5, 3]],
        vec![vec![2, 8, 8, 8, 3], vec![2, 13, 21, 34, 3], vec![2, 44, 3]],
    ];
    ids.iter()
        .map(|rows| Batch::new(rows, None, None, config, &device()).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn rewiring_keeps_the_function_and_orders_by_importance(
        (layers, heads, head_dim, units) in (1usize..4, 2usize..5, 1usize..4, 2usize..9),
        roberta in any::<bool>(),
        seed in any::<u64>(),
        keep in (1usize..5, 1usize..9),
    ) {
        let family = if roberta { Family::Roberta } else { Family::Bert };
        let config = tiny(family, layers, heads, head_dim, units, HeadKind::SequenceClassification);
        let net = SuperNet::random(config.clone(), &device(), seed).unwrap();
        let data = batches(&config);
        let importance = net.importance(&data).unwrap();
        prop_assert_eq!(importance.tokens, 6 + 3 + 5 + 5 + 3);
        prop_assert!(importance.heads.iter().chain(&importance.units).flatten().all(|x| x.is_finite() && *x >= 0.0));
        let order = importance.rewiring();
        let mut rewired = SuperNet::random(config.clone(), &device(), seed).unwrap();
        rewired.rewire(&order).unwrap();

        // The same function.
        for b in &data {
            let a = net.forward_full(b).unwrap();
            let r = rewired.forward_full(b).unwrap();
            prop_assert!(max_diff(a.last_hidden_state, r.last_hidden_state) <= 1e-5);
            prop_assert!(max_diff(a.logits.unwrap(), r.logits.unwrap()) <= 1e-5);
        }

        // Rewired importance is the old one, permuted, hence descending.
        let again = rewired.importance(&data).unwrap();
        for (l, (h, u)) in order.heads.iter().zip(&order.units).enumerate() {
            for (i, &k) in h.iter().enumerate() {
                prop_assert!((again.heads[l][i] - importance.heads[l][k]).abs() <= 1e-4 * (1.0 + importance.heads[l][k]));
            }
            for (i, &k) in u.iter().enumerate() {
                prop_assert!((again.units[l][i] - importance.units[l][k]).abs() <= 1e-4 * (1.0 + importance.units[l][k]));
            }
            prop_assert!(importance.heads[l][h[0]] >= importance.heads[l][h[heads - 1]]);
            prop_assert!(importance.units[l][u[0]] >= importance.units[l][u[units - 1]]);
        }

        // The first k of the rewired network are the k most important of the original.
        let (kh, ku) = (keep.0.min(heads), keep.1.min(units));
        let prefix = Subnet::from_counts(&config.arch(), &vec![Some((kh, ku)); layers]).unwrap();
        let chosen = Subnet::new(
            &config.arch(),
            order
                .heads
                .iter()
                .zip(&order.units)
                .map(|(h, u)| {
                    let mut heads: Vec<usize> = h[..kh].to_vec();
                    let mut units: Vec<usize> = u[..ku].to_vec();
                    heads.sort_unstable();
                    units.sort_unstable();
                    Some(LayerKeep { heads, units })
                })
                .collect(),
        )
        .unwrap();
        for b in &data {
            let a = net.forward(b, &chosen, Mode::Sliced).unwrap();
            let r = rewired.forward(b, &prefix, Mode::Sliced).unwrap();
            prop_assert!(max_diff(a.logits.unwrap(), r.logits.unwrap()) <= 1e-5);
        }
    }
}

#[test]
fn bad_rewirings_are_refused() {
    let config = tiny(Family::Bert, 2, 2, 2, 3, HeadKind::SequenceClassification);
    let mut net = SuperNet::random(config.clone(), &device(), 0).unwrap();
    let ok = Rewiring {
        heads: vec![vec![1, 0]; 2],
        units: vec![vec![2, 0, 1]; 2],
    };
    let mut short = ok.clone();
    short.heads.pop();
    assert!(net.rewire(&short).is_err());
    let mut repeated = ok.clone();
    repeated.units[1] = vec![0, 0, 1];
    assert!(net.rewire(&repeated).is_err());
    net.rewire(&ok).unwrap();
    // (An extracted model cannot be rewired: `PrunedNet` has no `importance` or `rewire`.)
    assert!(net.importance(&[]).is_err());
}

/// A network being trained (on an autodiff device) is rewired into fresh trainable
/// parameters: gradients reach them.
#[test]
fn a_rewired_network_on_an_autodiff_device_trains() {
    let config = tiny(Family::Bert, 2, 2, 2, 3, HeadKind::SequenceClassification);
    let device = device().autodiff();
    let mut net = SuperNet::random(config.clone(), &device, 3).unwrap();
    let data: Vec<Batch> = batches(&config)
        .iter()
        .map(|b| Batch {
            input_ids: b.input_ids.clone().to_device(&device),
            token_type_ids: b.token_type_ids.clone().to_device(&device),
            position_ids: b.position_ids.clone().to_device(&device),
            attention_mask: b.attention_mask.clone().to_device(&device),
        })
        .collect();
    let order = net
        .valid()
        .importance(&batches(&config))
        .unwrap()
        .rewiring();
    net.rewire(&order).unwrap();
    let loss = net.forward_full(&data[0]).unwrap().logits.unwrap().sum();
    let grads = loss.backward();
    let w = &net.weights().layers[0]
        .ffn
        .as_ref()
        .unwrap()
        .intermediate
        .weight;
    assert!(
        w.val().grad(&grads).is_some(),
        "no gradient reached the rewired weights"
    );
}
