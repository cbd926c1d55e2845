//! Reading Hugging Face safetensors checkpoints: one file or a sharded index, tensor names with
//! or without the `bert.`/`roberta.` prefix, and the legacy `LayerNorm.gamma`/`beta` names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::{ModelError, Result};

/// The weight files of a checkpoint, read into memory.
pub struct WeightFiles {
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Tensor name → index into `files`.
    index: HashMap<String, usize>,
}

impl WeightFiles {
    /// Reads `dir/model.safetensors`, or the shards listed in `dir/model.safetensors.index.json`.
    pub fn open(dir: &Path) -> Result<Self> {
        let single = dir.join("model.safetensors");
        let sharded = dir.join("model.safetensors.index.json");
        let paths = if single.is_file() {
            vec![single]
        } else if sharded.is_file() {
            let text =
                std::fs::read_to_string(&sharded).map_err(|e| ModelError::io(&sharded, e))?;
            let index: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| ModelError::Weights {
                    path: sharded.clone(),
                    message: e.to_string(),
                })?;
            let mut shards: Vec<String> = index["weight_map"]
                .as_object()
                .map(|m| {
                    m.values()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            shards.sort();
            shards.dedup();
            shards.into_iter().map(|s| dir.join(s)).collect()
        } else {
            return Err(ModelError::io(
                &single,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no model.safetensors (nor a sharded index) in the model folder",
                ),
            ));
        };
        Self::from_paths(paths)
    }

    /// Reads the given safetensors files.
    pub fn from_paths(paths: Vec<PathBuf>) -> Result<Self> {
        let mut files = Vec::new();
        let mut index = HashMap::new();
        for path in paths {
            let bytes = std::fs::read(&path).map_err(|e| ModelError::io(&path, e))?;
            let st = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Weights {
                path: path.clone(),
                message: e.to_string(),
            })?;
            for name in st.names() {
                index.insert(name.to_string(), files.len());
            }
            files.push((path, bytes));
        }
        Ok(Self { files, index })
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.index.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The name under which `name` is stored: as is, behind one of `prefixes`, or with the
    /// legacy LayerNorm names (`gamma` for `weight`, `beta` for `bias`).
    pub fn resolve(
        &self,
        name: &str,
        prefixes: &[&str],
    ) -> std::result::Result<String, Vec<String>> {
        let mut tried = Vec::new();
        let legacy = name
            .strip_suffix("LayerNorm.weight")
            .map(|s| format!("{s}LayerNorm.gamma"))
            .or_else(|| {
                name.strip_suffix("LayerNorm.bias")
                    .map(|s| format!("{s}LayerNorm.beta"))
            });
        for base in std::iter::once(name.to_string()).chain(legacy) {
            for prefix in std::iter::once("").chain(prefixes.iter().copied()) {
                let candidate = format!("{prefix}{base}");
                if self.index.contains_key(&candidate) {
                    return Ok(candidate);
                }
                tried.push(candidate);
            }
        }
        Err(tried)
    }

    /// Whether `name` is present (under any accepted spelling).
    pub fn contains(&self, name: &str, prefixes: &[&str]) -> bool {
        self.resolve(name, prefixes).is_ok()
    }

    /// The values of tensor `name` as `f32`, checked against `shape`.
    pub fn read(&self, name: &str, prefixes: &[&str], shape: &[usize]) -> Result<Vec<f32>> {
        let stored = self
            .resolve(name, prefixes)
            .map_err(|tried| ModelError::MissingTensor {
                name: name.to_string(),
                path: self.files.first().map(|f| f.0.clone()).unwrap_or_default(),
                tried: tried.join(", "),
            })?;
        let file = &self.files[self.index[&stored]];
        let st = SafeTensors::deserialize(&file.1).map_err(|e| ModelError::Weights {
            path: file.0.clone(),
            message: e.to_string(),
        })?;
        let view = st.tensor(&stored).map_err(|e| ModelError::Weights {
            path: file.0.clone(),
            message: e.to_string(),
        })?;
        if view.shape() != shape {
            return Err(ModelError::ShapeMismatch {
                name: stored,
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(ModelError::DType {
                    name: stored,
                    dtype: format!("{other:?}"),
                });
            }
        };
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    fn write(dir: &Path, tensors: &[(&str, Vec<usize>, Vec<f32>)]) {
        let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
            .iter()
            .map(|(n, s, v)| {
                (
                    n.to_string(),
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                    s.clone(),
                )
            })
            .collect();
        let views: Vec<(String, TensorView<'_>)> = bytes
            .iter()
            .map(|(n, b, s)| {
                (
                    n.clone(),
                    TensorView::new(Dtype::F32, s.clone(), b).unwrap(),
                )
            })
            .collect();
        safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    }

    #[test]
    fn prefixes_and_legacy_names_resolve() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("bert.embeddings.LayerNorm.gamma", vec![2], vec![1.0, 2.0]),
                ("bert.pooler.dense.bias", vec![2], vec![3.0, 4.0]),
            ],
        );
        let w = WeightFiles::open(dir.path()).unwrap();
        let prefixes = ["bert."];
        assert_eq!(
            w.read("embeddings.LayerNorm.weight", &prefixes, &[2])
                .unwrap(),
            [1.0, 2.0]
        );
        assert_eq!(
            w.read("pooler.dense.bias", &prefixes, &[2]).unwrap(),
            [3.0, 4.0]
        );
        let err = w
            .read("pooler.dense.bias", &prefixes, &[3])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[2]") && err.contains("[3]") && err.contains("pooler.dense.bias"),
            "{err}"
        );
        let err = w
            .read("pooler.dense.weight", &prefixes, &[2, 2])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing") && err.contains("bert.pooler.dense.weight"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_without_weights_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = WeightFiles::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("model.safetensors"), "{err}");
        std::fs::write(dir.path().join("model.safetensors"), b"garbage").unwrap();
        let err = WeightFiles::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("not a readable safetensors file"), "{err}");
    }
}
