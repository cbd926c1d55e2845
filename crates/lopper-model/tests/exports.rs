//! The exports users deploy compute what lopper's sliced sub-network computes: the `hf` export
//! as transformers loads it (outputs recorded by scripts/reference/make_export_fixtures.py) and
//! as lopper reads it back, and the `onnx` export as ONNX Runtime runs it (in the venv of
//! scripts/ort-venv.sh), on narrowed sub-networks of the real all-MiniLM-L6-v2 with and
//! without a classification head, and on tiny random BERT and RoBERTa encoders.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Tensor;
use common::{device, fixture, max_diff, rows, tensor_diff, tiny};
use lopper_core::{LayerKeep, Subnet};
use lopper_model::{
    Batch, EncoderConfig, EncoderOutput, Family, HeadKind, Mode, Model, ModelError, PrunedNet,
    SuperNet, export_hf, export_onnx, onnx_takes_token_types,
};
use serde_json::{Value, json};

/// all-MiniLM-L6-v2, or the same encoder under a 3-label sequence-classification config
/// (`minilm-cls`: lopper draws the head from seed 0, as `lopper export` does).
fn source(name: &str, tmp: &Path) -> PathBuf {
    let minilm = lopper_testkit::assets::minilm().unwrap();
    match name {
        "minilm" => minilm,
        "minilm-cls" => {
            let dir = tmp.join("minilm-cls");
            std::fs::create_dir_all(&dir).unwrap();
            for f in ["model.safetensors", "tokenizer.json", "vocab.txt"] {
                std::fs::copy(minilm.join(f), dir.join(f)).unwrap();
            }
            let mut config: Value =
                serde_json::from_str(&std::fs::read_to_string(minilm.join("config.json")).unwrap())
                    .unwrap();
            config["architectures"] = json!(["BertForSequenceClassification"]);
            config["num_labels"] = json!(3);
            std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
            dir
        }
        other => panic!("unknown source {other}"),
    }
}

fn output(out: EncoderOutput, name: &str) -> Tensor<3> {
    match name {
        "logits" => out.logits.unwrap().unsqueeze::<3>(),
        _ => out.last_hidden_state,
    }
}

#[test]
fn hf_exports_compute_in_transformers_what_lopper_computes() {
    let f = fixture("export-hf.json");
    let tol = f["tolerance"].as_f64().unwrap() as f32;
    let inputs = &f["inputs"];
    let tmp = tempfile::tempdir().unwrap();
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dir = source(case["source"].as_str().unwrap(), tmp.path());
        let (net, _) = SuperNet::load(&dir, &device(), 0).unwrap();
        let subnet: Subnet = serde_json::from_value(case["subnet"].clone()).unwrap();
        let batch = Batch::new(
            &rows(&inputs["input_ids"]),
            Some(&rows(&inputs["token_type_ids"])),
            Some(&rows(&inputs["attention_mask"])),
            net.config(),
            &device(),
        )
        .unwrap();
        let which = case["output"].as_str().unwrap();
        let want = if which == "logits" {
            // [batch, labels] as [1, batch, labels], the shape `output` gives.
            json!([case["values"].clone()])
        } else {
            case["values"].clone()
        };
        let sliced = output(net.forward(&batch, &subnet, Mode::Sliced).unwrap(), which);
        let d = max_diff(sliced, &want);
        eprintln!("{name}: lopper's sliced sub-network vs transformers on the hf export: {d:.2e}");
        assert!(
            d <= tol,
            "{name}: lopper's sliced sub-network is {d} from transformers"
        );

        // The export lopper writes now is the one transformers loaded.
        let out = tmp.path().join(name);
        let size = export_hf(&net.extract(&subnet).unwrap(), &out, Some(&dir)).unwrap();
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap())
                .unwrap();
        for key in [
            "num_hidden_layers",
            "intermediate_size",
            "pruned_heads",
            "lopper_units",
        ] {
            assert_eq!(config[key], case["config"][key], "{name}: {key}");
        }
        assert_eq!(
            size.bytes,
            case["weights_bytes"].as_u64().unwrap(),
            "{name}"
        );
        let units: Vec<u64> =
            serde_json::from_value(case["config"]["lopper_units"].clone()).unwrap();
        let width = config["intermediate_size"].as_u64().unwrap();
        let padding: u64 = units.iter().map(|u| (width - u) * (2 * 384 + 1)).sum();
        assert_eq!(size.padding_params, padding, "{name}");
        assert!(
            case["transformers_units"]
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u.as_u64() == Some(width)),
            "{name}: transformers built the padded width"
        );

        // lopper reads it back narrow, with the true parameter count, computing the same.
        let (back, report) = Model::load(&out, &device(), 0).unwrap();
        assert!(report.initialized.is_empty());
        let Model::Pruned(back) = back else {
            panic!("{name}: an hf export reads back as a pruned model")
        };
        assert_eq!(
            back.params(),
            lopper_model::dense_params(net.config(), &subnet),
            "{name}"
        );
        let got = output(back.forward_full(&batch).unwrap(), which);
        let d = max_diff(got, &want);
        eprintln!("{name}: the hf export read back by lopper vs transformers: {d:.2e}");
        assert!(
            d <= tol,
            "{name}: the hf export read by lopper is {d} from transformers"
        );
    }
}

/// Runs `model.onnx` in ONNX Runtime on `batch`'s rows; the named output.
fn onnx_runtime(model: &Path, inputs: &Value, name: &str, work: &Path) -> Value {
    let python = lopper_testkit::assets::ort_python().unwrap();
    let root = lopper_testkit::assets::workspace_root();
    let (input, out) = (work.join("inputs.json"), work.join("outputs.json"));
    std::fs::write(&input, inputs.to_string()).unwrap();
    let run = Command::new(python)
        .arg(root.join("scripts/reference/run_onnx.py"))
        .args([model, &input, &out])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "ONNX Runtime failed on {}: {}",
        model.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    let result: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(result["checker"], "ok");
    result["outputs"][name].clone()
}

/// Exports `subnet` of `net` as ONNX, runs it in ONNX Runtime and returns the largest
/// difference from lopper's sliced forward.
fn onnx_difference(
    net: &SuperNet,
    subnet: &Subnet,
    ids: &[Vec<u32>],
    types: &[Vec<u32>],
    work: &Path,
) -> f32 {
    let out = work.join("onnx");
    let bytes = export_onnx(&net.extract(subnet).unwrap(), &out, None).unwrap();
    assert_eq!(
        std::fs::metadata(out.join("model.onnx")).unwrap().len(),
        bytes
    );
    // Ragged rows, padded with the padding id and masked.
    let len = ids.iter().map(Vec::len).max().unwrap();
    let pad = net.config().pad_token_id as u32;
    let padded = |rows: &[Vec<u32>], fill: u32| -> Vec<Vec<u32>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .copied()
                    .chain(std::iter::repeat(fill))
                    .take(len)
                    .collect()
            })
            .collect()
    };
    let mask: Vec<Vec<u32>> = ids
        .iter()
        .map(|r| (0..len).map(|i| u32::from(i < r.len())).collect())
        .collect();
    let (ids, types) = (padded(ids, pad), padded(types, 0));
    let batch = Batch::new(&ids, Some(&types), Some(&mask), net.config(), &device()).unwrap();
    let mut inputs = json!({"input_ids": ids, "attention_mask": mask});
    if onnx_takes_token_types(net.config()) {
        inputs["token_type_ids"] = json!(types);
    }
    let lopper = net.forward(&batch, subnet, Mode::Sliced).unwrap();
    match &lopper.logits {
        Some(logits) => max_diff(
            logits.clone(),
            &onnx_runtime(&out.join("model.onnx"), &inputs, "logits", work),
        ),
        None => max_diff(
            lopper.last_hidden_state,
            &onnx_runtime(&out.join("model.onnx"), &inputs, "last_hidden_state", work),
        ),
    }
}

#[test]
fn onnx_exports_compute_in_onnx_runtime_what_lopper_computes() {
    let f = fixture("export-hf.json");
    let tmp = tempfile::tempdir().unwrap();
    let narrow: Subnet = serde_json::from_value(f["cases"][0]["subnet"].clone()).unwrap();
    let inputs = &f["inputs"];
    let trim = |rows: Vec<Vec<u32>>, mask: &[Vec<u32>]| -> Vec<Vec<u32>> {
        rows.into_iter()
            .zip(mask)
            .map(|(r, m)| {
                r.into_iter()
                    .zip(m)
                    .filter(|(_, m)| **m == 1)
                    .map(|(x, _)| x)
                    .collect()
            })
            .collect()
    };
    let mask = rows(&inputs["attention_mask"]);
    let ids = trim(rows(&inputs["input_ids"]), &mask);
    let types = trim(rows(&inputs["token_type_ids"]), &mask);
    let keep = |h: std::ops::Range<usize>, u: std::ops::Range<usize>| {
        Some(LayerKeep {
            heads: h.collect(),
            units: u.collect(),
        })
    };
    for name in ["minilm", "minilm-cls"] {
        let dir = source(name, tmp.path());
        let (net, _) = SuperNet::load(&dir, &device(), 0).unwrap();
        let arch = net.arch();
        // Blocks the `hf` layout cannot hold: heads and no unit, units and no head.
        let skips = Subnet::new(
            &arch,
            vec![
                keep(0..4, 0..0),
                keep(0..0, 0..512),
                None,
                keep(3..12, 100..900),
                None,
                None,
            ],
        )
        .unwrap();
        let nothing = Subnet::new(&arch, vec![None; 6]).unwrap();
        for (what, subnet) in [
            ("narrow", &narrow),
            ("skipped blocks", &skips),
            ("no layer", &nothing),
        ] {
            let work = tmp.path().join(format!("{name}-{what}"));
            std::fs::create_dir_all(&work).unwrap();
            let d = onnx_difference(&net, subnet, &ids, &types, &work);
            eprintln!("{name}, {what}: ONNX Runtime vs lopper's sliced sub-network: {d:.2e}");
            assert!(d <= 1e-4, "{name}, {what}: ONNX Runtime is {d} from lopper");
        }
    }
    // RoBERTa's positions count the tokens past the padding index.
    for family in [Family::Bert, Family::Roberta] {
        let config = tiny(family, 3, 4, 4, 12, HeadKind::SequenceClassification);
        let net = SuperNet::random(config.clone(), &device(), 11).unwrap();
        let s = Subnet::new(
            &config.arch(),
            vec![keep(1..3, 2..9), None, keep(0..4, 0..1)],
        )
        .unwrap();
        let ids = vec![
            vec![0, 5, 9, 7, 2],
            vec![0, 8, 2],
            vec![0, 4, 4, 4, 4, 4, 2],
        ];
        let types = if family == Family::Bert {
            vec![
                vec![0, 0, 0, 1, 1],
                vec![0, 0, 0],
                vec![0, 0, 0, 0, 1, 1, 1],
            ]
        } else {
            ids.iter().map(|r| vec![0; r.len()]).collect()
        };
        let work = tmp.path().join(format!("{family:?}"));
        std::fs::create_dir_all(&work).unwrap();
        let d = onnx_difference(&net, &s, &ids, &types, &work);
        eprintln!("tiny {family:?}: ONNX Runtime vs lopper's sliced sub-network: {d:.2e}");
        assert!(d <= 1e-5, "{family:?}: ONNX Runtime is {d} from lopper");
    }
}

#[test]
fn what_the_hf_layout_cannot_hold_is_a_clear_error() {
    let config = tiny(Family::Bert, 2, 2, 2, 4, HeadKind::None);
    let net = SuperNet::random(config.clone(), &device(), 0).unwrap();
    let s = Subnet::new(
        &config.arch(),
        vec![
            Some(LayerKeep {
                heads: vec![],
                units: vec![1],
            }),
            None,
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = export_hf(&net.extract(&s).unwrap(), dir.path(), None).unwrap_err();
    assert!(
        matches!(err, ModelError::HfInexpressible { layer: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("--format onnx"), "{err}");
    // A multiple-choice head has no ONNX export.
    let mc = tiny(Family::Bert, 1, 2, 2, 4, HeadKind::MultipleChoice);
    let net = SuperNet::random(mc.clone(), &device(), 0).unwrap();
    let err = export_onnx(
        &net.extract(&Subnet::full(&mc.arch())).unwrap(),
        dir.path(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::Unsupported(_)), "{err}");
}

/// An hf export whose padding is not zero would compute something else in transformers than
/// in lopper: lopper refuses it, naming the tensor.
#[test]
fn non_zero_padding_is_refused() {
    let config = tiny(Family::Bert, 2, 2, 2, 4, HeadKind::None);
    let net = SuperNet::random(config.clone(), &device(), 0).unwrap();
    let s = Subnet::from_counts(&config.arch(), &[Some((2, 4)), Some((1, 2))]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    export_hf(&net.extract(&s).unwrap(), dir.path(), None).unwrap();
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec(), v.data().to_vec()))
        .collect();
    let bias = tensors
        .iter_mut()
        .find(|(n, _, _)| n == "encoder.layer.1.intermediate.dense.bias")
        .unwrap();
    let last = bias.2.len() - 4;
    bias.2[last..].copy_from_slice(&1.0f32.to_le_bytes());
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, &path).unwrap();
    let err = PrunedNet::load(dir.path(), &device()).unwrap_err();
    assert!(matches!(err, ModelError::Padding { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("encoder.layer.1.intermediate.dense"),
        "{err}"
    );
}

/// Any sub-network of a tiny random encoder: its hf export reads back in lopper computing
/// what the sliced sub-network does, or is refused as inexpressible exactly when a kept layer
/// keeps heads without units or units without heads.
#[test]
fn hf_exports_of_random_subnets_read_back_exactly() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for case in 0..24 {
        let family = if case % 2 == 0 {
            Family::Bert
        } else {
            Family::Roberta
        };
        let config: EncoderConfig = tiny(family, 3, 3, 2, 5, HeadKind::SequenceClassification);
        let net = SuperNet::random(config.clone(), &device(), case).unwrap();
        let layers = (0..3)
            .map(|_| {
                rng.random_bool(0.8).then(|| LayerKeep {
                    heads: (0..3).filter(|_| rng.random_bool(0.7)).collect(),
                    units: (0..5).filter(|_| rng.random_bool(0.7)).collect(),
                })
            })
            .collect();
        let s = Subnet::new(&config.arch(), layers).unwrap();
        let ids = vec![vec![2, 7, 9, 4, 11, 3], vec![2, 5, 3]];
        let batch = Batch::new(&ids, None, None, &config, &device()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let inexpressible = s
            .layers()
            .iter()
            .flatten()
            .any(|l| l.heads.is_empty() != l.units.is_empty());
        match export_hf(&net.extract(&s).unwrap(), dir.path(), None) {
            Err(ModelError::HfInexpressible { .. }) => assert!(inexpressible, "{s}"),
            Err(e) => panic!("{s}: {e}"),
            Ok(_) => {
                assert!(!inexpressible, "{s}");
                let want = net.forward(&batch, &s, Mode::Sliced).unwrap();
                let back = PrunedNet::load(dir.path(), &device()).unwrap();
                let got = back.forward_full(&batch).unwrap();
                let d = tensor_diff(got.logits.unwrap(), want.logits.unwrap());
                assert!(d <= 1e-5, "{s}: {d}");
            }
        }
    }
}
