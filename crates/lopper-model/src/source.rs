//! Where a model comes from: a local folder in the Hugging Face layout, or a hub id (taken from
//! the local hub cache when it is there, downloaded otherwise).

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo};

use crate::{ModelError, Result};

/// Files a model folder must have.
const REQUIRED: [&str; 2] = ["config.json", "model.safetensors"];
/// Files fetched along when the repository has them.
const OPTIONAL: [&str; 7] = [
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
];

/// Resolves `spec` to a model folder: an existing folder is used as it is; `org/name` is a
/// Hugging Face hub id, looked up in the hub cache (`cache`, else `HF_HOME`'s, else
/// `~/.cache/huggingface/hub`) and downloaded into it when missing (needs a network).
pub fn resolve_model(spec: &str, cache: Option<&Path>) -> Result<PathBuf> {
    let path = Path::new(spec);
    if path.is_dir() {
        return check_folder(path);
    }
    if !is_hub_id(spec) {
        return Err(ModelError::NotAModel {
            spec: spec.to_string(),
        });
    }
    let cache = match cache {
        Some(dir) => Cache::new(dir.to_path_buf()),
        None => Cache::from_env(),
    };
    let cached = cache.repo(Repo::model(spec.to_string()));
    if let Some(config) = cached.get("config.json")
        && REQUIRED.iter().all(|f| cached.get(f).is_some())
        && let Some(dir) = config.parent()
    {
        return Ok(dir.to_path_buf());
    }
    download(spec, cache)
}

fn check_folder(dir: &Path) -> Result<PathBuf> {
    for f in REQUIRED {
        let sharded =
            f == "model.safetensors" && dir.join("model.safetensors.index.json").is_file();
        if !(dir.join(f).is_file() || sharded) {
            return Err(ModelError::io(
                dir.join(f),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the model folder lacks this file",
                ),
            ));
        }
    }
    Ok(dir.to_path_buf())
}

fn is_hub_id(spec: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match spec.split_once('/') {
        Some((org, name)) => ok(org) && ok(name) && !spec.starts_with('.'),
        None => false,
    }
}

fn download(id: &str, cache: Cache) -> Result<PathBuf> {
    let hub = |file: Option<&str>, source| ModelError::Hub {
        id: id.to_string(),
        file: file.map(str::to_string),
        source: Box::new(source),
    };
    let api = ApiBuilder::from_cache(cache)
        .with_progress(true)
        .build()
        .map_err(|e| hub(None, e))?;
    let repo = api.model(id.to_string());
    let mut dir = None;
    for f in REQUIRED {
        let path = repo.get(f).map_err(|e| hub(Some(f), e))?;
        dir = path.parent().map(Path::to_path_buf);
    }
    for f in OPTIONAL {
        // Absent files are fine (a model may ship vocab.txt but no tokenizer.json, …).
        let _ = repo.get(f);
    }
    dir.ok_or_else(|| ModelError::HubEmpty { id: id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_and_folders() {
        assert!(is_hub_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(!is_hub_id("all-MiniLM-L6-v2"));
        assert!(!is_hub_id("a/b/c"));
        assert!(!is_hub_id("./x"));
        let err = resolve_model("no-such-folder", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("neither a model folder nor a hub id"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_model(dir.path().to_str().unwrap(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("config.json"), "{err}");
    }

    /// A hub id is served from a cache in the hub's layout without any network.
    #[test]
    fn a_hub_id_resolves_from_the_local_cache() {
        let cache = tempfile::tempdir().unwrap();
        let repo = cache.path().join("models--org--tiny");
        let snapshot = repo.join("snapshots").join("0123abc");
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abc").unwrap();
        for f in REQUIRED {
            std::fs::write(snapshot.join(f), "{}").unwrap();
        }
        assert_eq!(
            resolve_model("org/tiny", Some(cache.path())).unwrap(),
            snapshot
        );
    }
}
