//! Reading the reference fixtures of `scripts/reference/make_fixtures.py`.

// Test helpers panic on a broken fixture by design.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use lopper_model::{EncoderConfig, Family, HeadKind};
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

/// The default device.
pub fn device() -> Device {
    lopper_model::default_device()
}

/// A tiny encoder of random shape (vocabulary 50, 24 positions, 3 labels).
pub fn tiny(
    family: Family,
    layers: usize,
    heads: usize,
    head_dim: usize,
    units: usize,
    head: HeadKind,
) -> EncoderConfig {
    EncoderConfig {
        family,
        vocab_size: 50,
        hidden_size: heads * head_dim,
        num_layers: layers,
        num_heads: heads,
        intermediate_size: units,
        max_positions: 24,
        type_vocab_size: if family == Family::Bert { 2 } else { 1 },
        layer_norm_eps: 1e-12,
        pad_token_id: if family == Family::Bert { 0 } else { 1 },
        head,
        num_labels: 3,
    }
}

/// The largest absolute difference; NaN anywhere gives infinity (so that a NaN cannot pass).
pub fn tensor_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let d: f32 = (a - b).abs().max().into_scalar();
    if d.is_nan() { f32::INFINITY } else { d }
}
