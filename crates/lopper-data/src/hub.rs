//! Datasets on the Hugging Face hub: `hf:ORG/NAME[:CONFIG]` names the Parquet files of a
//! dataset repository (under `CONFIG/` when a configuration is given, as `nyu-mll/glue`
//! stores `mrpc/train-00000-of-00001.parquet`, …), taken from the local hub cache when they
//! are there and downloaded into it otherwise.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;
use hf_hub::{Cache, Repo};

use crate::{DataError, Result};

/// A hub dataset named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubDataset {
    /// `ORG/NAME`.
    pub id: String,
    /// The configuration: a folder of the repository; `None` for its root.
    pub config: Option<String>,
}

impl HubDataset {
    /// The prefix that marks a hub dataset.
    pub const PREFIX: &'static str = "hf:";

    /// Parses `hf:ORG/NAME` or `hf:ORG/NAME:CONFIG`; `None` for anything without the prefix.
    pub fn parse(spec: &str) -> Option<Result<Self>> {
        let rest = spec.strip_prefix(Self::PREFIX)?;
        let (id, config) = match rest.split_once(':') {
            Some((id, config)) => (id, Some(config)),
            None => (rest, None),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let valid = match id.split_once('/') {
            Some((org, name)) => ok(org) && ok(name),
            None => false,
        } && config.is_none_or(ok);
        Some(if valid {
            Ok(Self {
                id: id.to_owned(),
                config: config.map(str::to_owned),
            })
        } else {
            Err(DataError::Invalid(format!(
                "`{spec}` is not a hub dataset: expected hf:ORG/NAME or hf:ORG/NAME:CONFIG"
            )))
        })
    }

    /// The folder of its files in `cache`'s snapshot of the repository's main revision, if
    /// that snapshot holds at least one Parquet file there.
    fn cached(&self, cache: &Cache) -> Option<PathBuf> {
        let repo = cache
            .path()
            .join(Repo::dataset(self.id.clone()).folder_name());
        let commit = std::fs::read_to_string(repo.join("refs").join("main")).ok()?;
        let mut dir = repo.join("snapshots").join(commit.trim());
        if let Some(config) = &self.config {
            dir.push(config);
        }
        let has_parquet = |d: &Path| {
            std::fs::read_dir(d).ok().is_some_and(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .any(|e| e.path().extension().is_some_and(|x| x == "parquet"))
            })
        };
        (has_parquet(&dir) || has_parquet(&dir.join("data"))).then_some(dir)
    }

    /// Downloads the repository's Parquet files under the configuration's folder into
    /// `cache` and returns that folder.
    fn download(&self, cache: Cache) -> Result<PathBuf> {
        let hub = |source| DataError::Hub {
            id: self.id.clone(),
            source: Box::new(source),
        };
        let api = ApiBuilder::from_cache(cache.clone())
            .with_progress(true)
            .build()
            .map_err(hub)?;
        let repo = api.dataset(self.id.clone());
        let info = repo.info().map_err(hub)?;
        let prefix = self
            .config
            .as_ref()
            .map(|c| format!("{c}/"))
            .unwrap_or_default();
        let mut fetched = 0;
        for sibling in &info.siblings {
            let name = &sibling.rfilename;
            let under = name.strip_prefix(&prefix).unwrap_or_default();
            // The configuration's own files, and its `data/` folder.
            let depth = under.split('/').count();
            let in_place = depth == 1 || (depth == 2 && under.starts_with("data/"));
            if name.starts_with(&prefix) && in_place && name.ends_with(".parquet") {
                repo.get(name).map_err(hub)?;
                fetched += 1;
            }
        }
        if fetched == 0 {
            return Err(DataError::Invalid(format!(
                "hub dataset {} has no Parquet files under `{}`",
                self.id,
                if prefix.is_empty() { "/" } else { &prefix }
            )));
        }
        self.cached(&cache).ok_or_else(|| {
            DataError::Invalid(format!(
                "hub dataset {}: downloaded, but not found in the cache at {}",
                self.id,
                cache.path().display()
            ))
        })
    }
}

/// `data` as a local path: a hub dataset (`hf:…`) becomes the folder of its files in the hub
/// cache (`cache`, else `HF_HOME`'s, else `~/.cache/huggingface/hub`), downloaded there if
/// missing (which needs a network, and is refused when `HF_HUB_OFFLINE` is `1` or `true`, as
/// Hugging Face's own tools refuse it); anything else is returned as it is.
pub fn resolve_data(data: &Path, cache: Option<&Path>) -> Result<PathBuf> {
    let Some(parsed) = data.to_str().and_then(HubDataset::parse) else {
        return Ok(data.to_path_buf());
    };
    let dataset = parsed?;
    let cache = match cache {
        Some(dir) => Cache::new(dir.to_path_buf()),
        None => Cache::from_env(),
    };
    match dataset.cached(&cache) {
        Some(dir) => Ok(dir),
        None if offline() => Err(DataError::HubOffline {
            id: dataset.id.clone(),
            cache: cache.path().clone(),
        }),
        None => dataset.download(cache),
    }
}

/// Whether `HF_HUB_OFFLINE` forbids the network.
fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// Whether `data` names a hub dataset rather than a path.
pub fn is_hub_data(data: &Path) -> bool {
    data.to_str()
        .is_some_and(|s| s.starts_with(HubDataset::PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            HubDataset::parse("hf:nyu-mll/glue:mrpc").unwrap().unwrap(),
            HubDataset {
                id: "nyu-mll/glue".into(),
                config: Some("mrpc".into())
            }
        );
        assert_eq!(HubDataset::parse("hf:a/b").unwrap().unwrap().config, None);
        assert!(HubDataset::parse("data/glue").is_none());
        for bad in ["hf:glue", "hf:a/b/c", "hf:a/b:", "hf:../b"] {
            assert!(HubDataset::parse(bad).unwrap().is_err(), "{bad}");
        }
        assert_eq!(
            resolve_data(Path::new("plain/folder"), None).unwrap(),
            PathBuf::from("plain/folder")
        );
    }

    /// A hub dataset is served from a cache in the hub's layout without any network.
    #[test]
    fn a_hub_dataset_resolves_from_the_local_cache() {
        let cache = tempfile::tempdir().unwrap();
        let repo = cache.path().join("datasets--org--data");
        let config = repo.join("snapshots").join("abc123").join("cfg");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "abc123").unwrap();
        std::fs::write(config.join("train-00000-of-00001.parquet"), "").unwrap();
        assert_eq!(
            resolve_data(Path::new("hf:org/data:cfg"), Some(cache.path())).unwrap(),
            config
        );
        assert!(is_hub_data(Path::new("hf:org/data:cfg")));
    }
}
