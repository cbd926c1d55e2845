//! `lopper embed` on the real all-MiniLM-L6-v2 gives sentence-transformers' embeddings (the
//! reference fixture's), and a sub-network gives other, still normalised, ones.

// Test helpers panic on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::process::Output;

mod common;
use common::{lopper_with_input, root};

fn minilm() -> String {
    lopper_testkit::assets::minilm()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn embed(args: &[&str], input: &str) -> Output {
    let mut all = vec!["embed"];
    all.extend_from_slice(args);
    lopper_with_input(&all, input)
}

fn vectors(o: &Output) -> Vec<Vec<f64>> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn embeddings_match_sentence_transformers() {
    let model = minilm();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/reference/minilm.json")).unwrap(),
    )
    .unwrap();
    let full = &fixture["cases"][0];
    assert_eq!(full["name"], "full");
    let mut texts = Vec::new();
    let mut expected = Vec::new();
    for (input, out) in fixture["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(full["outputs"].as_array().unwrap())
    {
        if input["pair"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.is_null())
            && input["text"].as_array().unwrap().len() == 1
        {
            texts.push(input["text"][0].as_str().unwrap().to_string());
            expected.push(out["sentence_embedding"][0].clone());
        }
    }
    assert!(texts.len() >= 3);
    let o = embed(
        &["--model", &model, "--max-len", "32"],
        &(texts.join("\n") + "\n"),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = vectors(&o);
    assert_eq!(got.len(), texts.len());
    for (g, e) in got.iter().zip(&expected) {
        let e: Vec<f64> = serde_json::from_value(e.clone()).unwrap();
        let d = g
            .iter()
            .zip(&e)
            .map(|(a, b)| (a - b).abs())
            .fold(
                0.0,
                |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
            );
        assert!(d <= 1e-4, "max abs diff {d}");
    }

    // A sub-network: other vectors, still of unit norm; unnormalised when asked.
    let o = embed(&["--model", &model, "--subnet", "small:3,6,768"], &texts[0]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = &vectors(&o)[0];
    let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
    assert!(v.iter().zip(&got[0]).any(|(a, b)| (a - b).abs() > 1e-3));
    let o = embed(
        &["--model", &model, "--no-normalize", "--pooling", "cls"],
        &texts[0],
    );
    let v = &vectors(&o)[0];
    assert!((v.iter().map(|x| x * x).sum::<f64>().sqrt() - 1.0).abs() > 1e-3);
}

#[test]
fn bad_embed_input_is_one_error_line_and_exit_code_2() {
    let model = minilm();
    for (args, input, needle) in [
        (
            vec!["--model", model.as_str(), "--subnet", "small:9,1,1"],
            "hi\n",
            "outside",
        ),
        (
            vec!["--model", model.as_str(), "--subnet", "tiny:1"],
            "hi\n",
            "unknown space",
        ),
        (vec!["--model", model.as_str()], "\n\n", "no input"),
        (
            vec!["--model", model.as_str()],
            "one\n\nthree\n",
            "line 2 of the input is empty",
        ),
        (
            vec!["--model", "/no/such/model"],
            "hi\n",
            "neither a model folder nor a hub id",
        ),
    ] {
        let o = embed(&args, input);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err}");
    }
}
