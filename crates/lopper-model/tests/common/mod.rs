//! Reading the reference fixtures of `scripts/reference/make_fixtures.py`.

// Test helpers panic on a broken fixture by design.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;
use serde_json::Value;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `tests/fixtures/reference/NAME`.
pub fn fixture_path(name: &str) -> PathBuf {
    root().join("tests/fixtures/reference").join(name)
}

/// A fixture JSON file.
pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
}

/// `[[u32]]` rows.
pub fn rows(v: &Value) -> Vec<Vec<u32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect()
}

fn flat(v: &Value, out: &mut Vec<f32>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
        x => out.push(x.as_f64().unwrap() as f32),
    }
}

/// The largest absolute difference between a tensor and nested JSON arrays of its shape.
pub fn max_diff<const D: usize>(got: Tensor<D>, expected: &Value) -> f32 {
    let mut want = Vec::new();
    flat(expected, &mut want);
    let got: Vec<f32> = got.into_data().try_to_vec().unwrap();
    assert_eq!(got.len(), want.len(), "shape");
    got.iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}
