//! Sub-networks on tiny random encoders: sliced equals masked, the extracted dense model equals
//! the sliced sub-network, and an export reloads to identical outputs.

#![allow(clippy::unwrap_used)]

mod common;

use burn::tensor::Tensor;
use common::{device, tensor_diff as max_diff, tiny};
use lopper_core::{LayerKeep, Subnet};
use lopper_model::{
    Batch, EncoderConfig, Family, HeadKind, Mode, Model, ModelError, PrunedNet, SuperNet, export,
};
use proptest::prelude::*;

fn batch(config: &EncoderConfig) -> Batch {
    // Ragged rows: the shorter ones are padded and masked.
    let ids = vec![vec![2, 7, 9, 4, 11, 3], vec![2, 5, 3], vec![2, 8, 8, 8, 3]];
    Batch::new(&ids, None, None, config, &device()).unwrap()
}

/// A random sub-network: per layer dropped, or any subset (possibly empty) of heads and units.
fn subnet(
    layers: usize,
    heads: usize,
    units: usize,
) -> impl Strategy<Value = Vec<Option<(Vec<bool>, Vec<bool>)>>> {
    prop::collection::vec(
        prop::option::weighted(
            0.8,
            (
                prop::collection::vec(any::<bool>(), heads),
                prop::collection::vec(any::<bool>(), units),
            ),
        ),
        layers,
    )
}

fn to_subnet(config: &EncoderConfig, bits: &[Option<(Vec<bool>, Vec<bool>)>]) -> Subnet {
    let on = |v: &[bool]| {
        v.iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect()
    };
    let layers = bits
        .iter()
        .map(|l| {
            l.as_ref().map(|(h, u)| LayerKeep {
                heads: on(h),
                units: on(u),
            })
        })
        .collect();
    Subnet::new(&config.arch(), layers).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sliced_equals_masked(
        (layers, heads, head_dim, units) in (1usize..4, 1usize..5, 1usize..4, 1usize..9),
        roberta in any::<bool>(),
        seed in any::<u64>(),
        bits in subnet(3, 4, 8),
    ) {
        let family = if roberta { Family::Roberta } else { Family::Bert };
        let config = tiny(family, layers, heads, head_dim, units, HeadKind::SequenceClassification);
        let bits: Vec<_> = bits.into_iter().take(layers).map(|l| l.map(|(h, u)| {
            (h.into_iter().take(heads).collect::<Vec<_>>(), u.into_iter().take(units).collect::<Vec<_>>())
        })).collect();
        prop_assume!(bits.len() == layers && bits.iter().flatten().all(|(h, u)| h.len() == heads && u.len() == units));
        let net = SuperNet::random(config.clone(), &device(), seed).unwrap();
        let s = to_subnet(&config, &bits);
        let b = batch(&config);
        let sliced = net.forward(&b, &s, Mode::Sliced).unwrap();
        let masked = net.forward(&b, &s, Mode::Masked).unwrap();
        prop_assert!(max_diff(sliced.last_hidden_state.clone(), masked.last_hidden_state) <= 1e-5);
        prop_assert!(max_diff(sliced.logits.clone().unwrap(), masked.logits.unwrap()) <= 1e-5);

        // The extracted dense model computes the same.
        let dense = net.extract(&s).unwrap();
        let out = dense.forward_full(&b).unwrap();
        prop_assert!(max_diff(out.last_hidden_state, sliced.last_hidden_state) <= 1e-5);
        prop_assert!(max_diff(out.logits.unwrap(), sliced.logits.unwrap()) <= 1e-5);
    }
}

#[test]
fn the_full_subnet_is_the_full_network_and_masking_matters() {
    let config = tiny(Family::Bert, 2, 4, 3, 7, HeadKind::None);
    let net = SuperNet::random(config.clone(), &device(), 1).unwrap();
    let b = batch(&config);
    let full = Subnet::full(&config.arch());
    let a = net
        .forward(&b, &full, Mode::Sliced)
        .unwrap()
        .last_hidden_state;
    let c = net.forward_full(&b).unwrap().last_hidden_state;
    assert_eq!(max_diff(a.clone(), c), 0.0);
    let half = Subnet::from_counts(&config.arch(), &[Some((2, 3)), Some((1, 7))]).unwrap();
    let h = net
        .forward(&b, &half, Mode::Sliced)
        .unwrap()
        .last_hidden_state;
    assert!(
        max_diff(a, h) > 1e-3,
        "a sub-network computes something else"
    );
}

#[test]
fn an_export_reloads_to_identical_outputs() {
    for family in [Family::Bert, Family::Roberta] {
        let config = tiny(family, 3, 4, 2, 6, HeadKind::SequenceClassification);
        let net = SuperNet::random(config.clone(), &device(), 7).unwrap();
        let keep = |h: Vec<usize>, u: Vec<usize>| Some(LayerKeep { heads: h, units: u });
        let s = Subnet::new(
            &config.arch(),
            vec![keep(vec![1, 3], vec![0, 2, 5]), None, keep(vec![], vec![4])],
        )
        .unwrap();
        let b = batch(&config);
        let expected = net.forward(&b, &s, Mode::Sliced).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dense = net.extract(&s).unwrap();
        // The dense model has exactly the parameters dense_params counts.
        assert_eq!(
            burn::module::Module::num_params(dense.weights()) as u64,
            lopper_model::dense_params(&config, &s)
        );
        // Tokenizer and sentence-transformers files come along.
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("vocab.txt"), "[PAD]\n").unwrap();
        std::fs::write(src.path().join("modules.json"), "[]").unwrap();
        std::fs::create_dir(src.path().join("1_Pooling")).unwrap();
        std::fs::write(src.path().join("1_Pooling/config.json"), "{}").unwrap();
        export(&dense, dir.path(), Some(src.path())).unwrap();
        for f in ["vocab.txt", "modules.json", "1_Pooling/config.json"] {
            assert!(dir.path().join(f).is_file(), "{f} was not copied");
        }
        let back = PrunedNet::load(dir.path(), &device()).unwrap();
        assert_eq!(back.layers(), dense.layers());
        assert_eq!(back.layers().len(), 2);
        assert_eq!(back.params(), dense.params());
        // A pruned export is not a super-network: loading it as one is refused, naming it.
        let err = SuperNet::load(dir.path(), &device(), 0).unwrap_err();
        assert!(matches!(err, ModelError::Pruned { .. }), "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");
        let (model, report) = Model::load(dir.path(), &device(), 0).unwrap();
        assert!(report.initialized.is_empty(), "{report:?}");
        assert!(matches!(model, Model::Pruned(_)));
        // It runs whole, and only whole.
        let net_of = model.network();
        assert!(matches!(
            net_of.forward(&b, &s, Mode::Sliced),
            Err(ModelError::RunsWhole)
        ));
        let whole = net_of.forward(&b, &net_of.whole(), Mode::Masked).unwrap();
        assert_eq!(
            max_diff(whole.last_hidden_state, expected.last_hidden_state.clone()),
            0.0
        );
        let got = back.forward_full(&b).unwrap();
        assert_eq!(
            max_diff(got.last_hidden_state, expected.last_hidden_state),
            0.0
        );
        assert_eq!(max_diff(got.logits.unwrap(), expected.logits.unwrap()), 0.0);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let config = tiny(Family::Bert, 2, 2, 2, 4, HeadKind::None);
    let net = SuperNet::random(config.clone(), &device(), 0).unwrap();
    assert!(Batch::new(&[vec![1, 99]], None, None, &config, &device()).is_err());
    assert!(Batch::new(&[vec![1; 30]], None, None, &config, &device()).is_err());
    assert!(Batch::new(&[], None, None, &config, &device()).is_err());
    let wrong = Subnet::full(&tiny(Family::Bert, 3, 2, 2, 4, HeadKind::None).arch());
    assert!(net.forward(&batch(&config), &wrong, Mode::Sliced).is_err());
}

/// Gradients of a sliced forward land in the shared full-size parameters: the kept heads' and
/// units' slices get gradient, the others exactly none.
#[test]
fn sliced_gradients_land_in_the_shared_parameters() {
    let config = tiny(Family::Bert, 1, 4, 2, 6, HeadKind::None);
    let device = device().autodiff();
    let net = SuperNet::random(config.clone(), &device, 3).unwrap();
    let keep = LayerKeep {
        heads: vec![1, 2],
        units: vec![0, 4],
    };
    let s = Subnet::new(&config.arch(), vec![Some(keep)]).unwrap();
    let b = Batch::new(&[vec![2, 7, 9, 3]], None, None, &config, &device).unwrap();
    let grads = net
        .forward(&b, &s, Mode::Sliced)
        .unwrap()
        .last_hidden_state
        .sum()
        .backward();
    let layer = &net.weights().layers[0];
    let col_norms = |p: &burn::module::Param<Tensor<2>>| -> Vec<f32> {
        let g = p.val().grad(&grads).unwrap();
        g.abs().sum_dim(0).into_data().try_to_vec().unwrap()
    };
    // Query columns: head h owns columns 2h, 2h + 1.
    let q = col_norms(&layer.attention.as_ref().unwrap().query.weight);
    for (c, n) in q.iter().enumerate() {
        let kept = [2, 3, 4, 5].contains(&c);
        assert_eq!(*n > 0.0, kept, "query column {c}: {n}");
    }
    let u = col_norms(&layer.ffn.as_ref().unwrap().intermediate.weight);
    for (c, n) in u.iter().enumerate() {
        assert_eq!(*n > 0.0, c == 0 || c == 4, "unit {c}: {n}");
    }
}

/// Heads on top: classification (3 labels), regression (1 label, STS-B) and multiple choice
/// (one score per choice, SWAG), on BERT and RoBERTa, sliced like the encoder.
#[test]
fn task_heads_give_one_score_per_label_or_choice() {
    for family in [Family::Bert, Family::Roberta] {
        for (head, labels, width) in [
            (HeadKind::SequenceClassification, 3, 3),
            (HeadKind::SequenceClassification, 1, 1),
            (HeadKind::MultipleChoice, 3, 1),
        ] {
            let mut config = tiny(family, 2, 2, 2, 4, head);
            config.num_labels = labels;
            let net = SuperNet::random(config.clone(), &device(), 5).unwrap();
            // Two examples of three choices each, flattened as the model takes them.
            let ids: Vec<Vec<u32>> = (0..6).map(|i| vec![2, 5 + i, 9, 3]).collect();
            let b = Batch::new(&ids, None, None, &config, &device()).unwrap();
            let s = Subnet::from_counts(&config.arch(), &[Some((1, 2)), None]).unwrap();
            let logits = net.forward(&b, &s, Mode::Sliced).unwrap().logits.unwrap();
            assert_eq!(logits.dims(), [6, width], "{family:?} {head:?}");
            if head == HeadKind::MultipleChoice {
                let per_example: Tensor<2> = logits.reshape([2, 3]);
                assert_eq!(per_example.dims(), [2, 3]);
            }
        }
    }
}
