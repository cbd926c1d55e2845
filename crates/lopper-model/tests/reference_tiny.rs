//! Agreement with Hugging Face transformers on tiny seeded random BERT and RoBERTa models
//! (saved by `scripts/reference/make_fixtures.py` with their reference outputs): full network,
//! a layer with no head, a layer with no unit, a dropped layer, non-prefix index sets; sliced
//! and masked; within 1e-4.

#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture, fixture_path, max_diff, rows};
use lopper_core::Subnet;
use lopper_model::{Batch, HeadKind, Mode, SuperNet};

/// Checks every case and input of `fixture` against the model in `dir`; returns the worst
/// difference.
fn check(name: &str, dir: &str, logits: bool) -> f32 {
    let json = fixture(name);
    let device = lopper_model::default_device();
    let (net, report) = SuperNet::load(&fixture_path(dir), &device, 0).unwrap();
    assert!(report.initialized.is_empty(), "{report:?}");
    if logits {
        assert_eq!(net.config().head, HeadKind::SequenceClassification);
    }
    let mut worst = 0f32;
    for case in json["cases"].as_array().unwrap() {
        let subnet: Subnet = serde_json::from_value(case["subnet"].clone()).unwrap();
        for (input, expected) in json["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["outputs"].as_array().unwrap())
        {
            assert_eq!(input["name"], expected["input"]);
            let ids = rows(&input["input_ids"]);
            let types = rows(&input["token_type_ids"]);
            let mask = rows(&input["attention_mask"]);
            let batch = Batch::new(&ids, Some(&types), Some(&mask), net.config(), &device).unwrap();
            for mode in [Mode::Sliced, Mode::Masked] {
                let out = net.forward(&batch, &subnet, mode).unwrap();
                let what = format!("{name} {} {} {mode:?}", case["name"], input["name"]);
                let mut diffs = vec![max_diff(
                    out.last_hidden_state,
                    &expected["last_hidden_state"],
                )];
                if let Some(p) = out.pooler_output {
                    diffs.push(max_diff(p, &expected["pooler_output"]));
                }
                if logits {
                    diffs.push(max_diff(out.logits.unwrap(), &expected["logits"]));
                }
                let d = diffs.iter().copied().fold(0.0, f32::max);
                assert!(d <= 1e-4, "{what}: max abs diff {d}");
                worst = worst.max(d);
            }
        }
    }
    worst
}

#[test]
fn tiny_bert_matches_transformers() {
    let d = check("tiny-bert.json", "tiny-bert", false);
    println!("tiny-bert: worst max abs diff {d:e}");
}

#[test]
fn tiny_bert_with_a_classifier_and_prefixed_names_matches_transformers() {
    let d = check("tiny-bert.json", "tiny-bert-cls", true);
    println!("tiny-bert-cls: worst max abs diff {d:e}");
}

#[test]
fn tiny_roberta_matches_transformers() {
    let d = check("tiny-roberta.json", "tiny-roberta", false);
    println!("tiny-roberta: worst max abs diff {d:e}");
}

#[test]
fn a_fixture_tensor_of_the_wrong_shape_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture_path("tiny-bert");
    std::fs::copy(
        src.join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    let config = std::fs::read_to_string(src.join("config.json"))
        .unwrap()
        .replace("\"intermediate_size\": 37", "\"intermediate_size\": 36");
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let err = SuperNet::load(dir.path(), &lopper_model::default_device(), 0)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("encoder.layer.0.intermediate.dense.weight")
            && err.contains("[37, 32]")
            && err.contains("[36, 32]"),
        "{err}"
    );
}

/// The same tiny BERT saved by `torch.save` as `pytorch_model.bin` (no safetensors in the
/// folder) loads through Burn's PyTorch reader and gives the same outputs.
#[test]
fn a_pytorch_bin_checkpoint_loads_too() {
    let device = lopper_model::default_device();
    let (from_bin, _) = SuperNet::load(&fixture_path("tiny-bert-bin"), &device, 0).unwrap();
    let (from_st, _) = SuperNet::load(&fixture_path("tiny-bert"), &device, 0).unwrap();
    let ids = vec![vec![2u32, 17, 33, 5, 3]];
    let b = Batch::new(&ids, None, None, from_st.config(), &device).unwrap();
    let a = from_bin.forward_full(&b).unwrap().last_hidden_state;
    let c = from_st.forward_full(&b).unwrap().last_hidden_state;
    let d: f32 = (a - c).abs().max().into_scalar();
    assert_eq!(d, 0.0);
}
