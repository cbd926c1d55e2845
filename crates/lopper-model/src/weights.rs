//! Reading Hugging Face checkpoints: safetensors (one file or a sharded index) or, where there is
//! none, a PyTorch `pytorch_model.bin` (through Burn's `pytorch-reader`); tensor names with or
//! without the `bert.`/`roberta.` prefix, and the legacy `LayerNorm.gamma`/`beta` names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

use crate::{ModelError, Result};

/// A decoded tensor of a PyTorch checkpoint: shape, dtype (or the name of one this crate does
/// not convert) and little-endian bytes.
type TorchTensor = (Vec<usize>, std::result::Result<Dtype, String>, Vec<u8>);

/// The weight files of a checkpoint, read into memory.
pub struct WeightFiles {
    files: Vec<(PathBuf, Vec<u8>)>,
    /// Tensor name → index into `files`.
    index: HashMap<String, usize>,
    /// Tensors of a PyTorch pickle checkpoint, decoded: name → (shape, dtype, little-endian
    /// bytes).
    torch: HashMap<String, TorchTensor>,
}

/// `model.safetensors.index.json`: which shard holds each tensor.
#[derive(serde::Deserialize)]
struct ShardIndex {
    weight_map: std::collections::BTreeMap<String, String>,
}

impl WeightFiles {
    /// Reads `dir/model.safetensors`, the shards listed in `dir/model.safetensors.index.json`,
    /// or else `dir/pytorch_model.bin`.
    pub fn open(dir: &Path) -> Result<Self> {
        let single = dir.join("model.safetensors");
        let sharded = dir.join("model.safetensors.index.json");
        let torch = dir.join("pytorch_model.bin");
        let paths = if single.is_file() {
            vec![single]
        } else if sharded.is_file() {
            let text =
                std::fs::read_to_string(&sharded).map_err(|e| ModelError::io(&sharded, e))?;
            let index: ShardIndex = serde_json::from_str(&text).map_err(|e| ModelError::Json {
                path: sharded.clone(),
                source: e,
            })?;
            let mut shards: Vec<String> = index.weight_map.into_values().collect();
            shards.sort();
            shards.dedup();
            shards.into_iter().map(|s| dir.join(s)).collect()
        } else if torch.is_file() {
            return Self::from_pytorch(&torch);
        } else {
            return Err(ModelError::io(
                &single,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no model.safetensors (nor a sharded index, nor pytorch_model.bin) in the model folder",
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
            let st = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Safetensors {
                path: path.clone(),
                source: e,
            })?;
            for name in st.names() {
                index.insert(name.to_string(), files.len());
            }
            files.push((path, bytes));
        }
        Ok(Self {
            files,
            index,
            torch: HashMap::new(),
        })
    }

    /// Reads a PyTorch checkpoint (`torch.save` of a state dict, zip or legacy format).
    pub fn from_pytorch(path: &Path) -> Result<Self> {
        let bad = |source| ModelError::Pytorch {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let reader = pytorch_reader::PytorchReader::new(path).map_err(bad)?;
        let mut torch = HashMap::new();
        for (name, t) in reader.into_tensors() {
            use pytorch_reader::DType as T;
            let dtype = match t.dtype() {
                T::F32 => Ok(Dtype::F32),
                T::F16 => Ok(Dtype::F16),
                T::BF16 => Ok(Dtype::BF16),
                other => Err(format!("{other:?}")),
            };
            let bytes = t.read().map_err(|e| ModelError::io(path, e))?;
            torch.insert(name, (t.shape().to_vec(), dtype, bytes));
        }
        let files = vec![(path.to_path_buf(), Vec::new())];
        Ok(Self {
            files,
            index: HashMap::new(),
            torch,
        })
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .index
            .keys()
            .chain(self.torch.keys())
            .map(String::as_str)
            .collect();
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
                if self.index.contains_key(&candidate) || self.torch.contains_key(&candidate) {
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
        let (found, dtype, data) = match self.torch.get(&stored) {
            Some((shape, dtype, bytes)) => (shape.as_slice(), dtype.clone(), bytes.as_slice()),
            None => {
                let file = &self.files[self.index[&stored]];
                let bad = |source| ModelError::Safetensors {
                    path: file.0.clone(),
                    source,
                };
                let st = SafeTensors::deserialize(&file.1).map_err(bad)?;
                let view = st.tensor(&stored).map_err(bad)?;
                return convert(&stored, view.shape(), shape, Ok(view.dtype()), view.data());
            }
        };
        convert(&stored, found, shape, dtype, data)
    }
}

/// Checks a tensor's shape and converts its bytes to `f32`.
fn convert(
    name: &str,
    found: &[usize],
    shape: &[usize],
    dtype: std::result::Result<Dtype, String>,
    data: &[u8],
) -> Result<Vec<f32>> {
    {
        let stored = name.to_string();
        if found != shape {
            return Err(ModelError::ShapeMismatch {
                name: stored,
                expected: shape.to_vec(),
                found: found.to_vec(),
            });
        }
        let values = match dtype {
            Ok(Dtype::F32) => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Ok(Dtype::F16) => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Ok(Dtype::BF16) => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Ok(other) => {
                return Err(ModelError::DType {
                    name: stored,
                    dtype: format!("{other:?}"),
                });
            }
            Err(other) => {
                return Err(ModelError::DType {
                    name: stored,
                    dtype: other,
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
