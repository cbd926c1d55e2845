//! The run folder: what a search persists so that it survives a crash.
//!
//! - `run.json`: the settings the search was started with (checked on resume).
//! - `trials.jsonl`: one [`TrialRecord`] per finished trial, appended and synced as each
//!   evaluation finishes, before the optimizer is told.
//! - `checkpoint.json`: the optimizer's (and scheduler's) whole state and the trials it has
//!   asked and not yet been told, replaced atomically after every ask and every tell.
//!
//! On resume the optimizer is restored from the checkpoint; each outstanding trial whose
//! record is already in the log is told from the log, the others are evaluated again. A kill
//! at any instant therefore loses no finished trial, and with one worker the resumed search
//! makes exactly the calls an uninterrupted one would.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use lopper_core::{Objective, Trial};
use serde::{Deserialize, Serialize};

use crate::{Result, SearchError, TrialRecord};

/// The settings a run folder was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Optimizer plugin name.
    pub optimizer: String,
    /// Its settings.
    pub optimizer_config: serde_json::Value,
    /// Scheduler plugin name, for multi-fidelity searches.
    #[serde(default)]
    pub scheduler: Option<String>,
    /// Seed of the search.
    pub seed: u64,
    /// What is measured.
    pub objectives: Vec<Objective>,
    /// Dimensions of the space.
    pub dims: usize,
    /// Whether upper bound, lower bound and mid-point were evaluated first.
    pub initial_design: bool,
}

/// What `checkpoint.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The optimizer's state ([`lopper_core::save_optimizer`]).
    pub optimizer: serde_json::Value,
    /// The scheduler's state, if any.
    #[serde(default)]
    pub scheduler: Option<serde_json::Value>,
    /// Trials asked and not yet told, in ask order.
    pub outstanding: Vec<Trial>,
    /// Wall-clock seconds spent by all sessions up to this checkpoint.
    pub elapsed_seconds: f64,
}

/// What [`RunStore::open`] finds in a run folder.
#[derive(Debug)]
pub struct Opened {
    /// The open folder.
    pub store: RunStore,
    /// `run.json`, if present.
    pub manifest: Option<RunManifest>,
    /// `checkpoint.json`, if present.
    pub checkpoint: Option<Checkpoint>,
    /// The records of `trials.jsonl`.
    pub records: Vec<TrialRecord>,
}

/// A run folder.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    log: File,
}

impl RunStore {
    /// Opens (creating if needed) the run folder `dir`. Returns the store, the manifest and
    /// checkpoint found there (if any), and the records of the trial log. A last line cut off by
    /// a crash is dropped from the file; any other bad line is an error naming it.
    pub fn open(dir: &Path) -> Result<Opened> {
        fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let manifest = read_json::<RunManifest>(&dir.join("run.json"))?;
        let checkpoint = read_json::<Checkpoint>(&dir.join("checkpoint.json"))?;
        let log_path = dir.join("trials.jsonl");
        let records = read_log(&log_path)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| SearchError::io(&log_path, e))?;
        let store = Self {
            dir: dir.to_path_buf(),
            log,
        };
        Ok(Opened {
            store,
            manifest,
            checkpoint,
            records,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `run.json`.
    pub fn write_manifest(&self, manifest: &RunManifest) -> Result<()> {
        write_atomic(&self.dir.join("run.json"), manifest)
    }

    /// Appends one record to the trial log and syncs it to disk.
    pub fn append(&mut self, record: &TrialRecord) -> Result<()> {
        let path = self.dir.join("trials.jsonl");
        let mut line = serde_json::to_string(record).map_err(|e| SearchError::Corrupt {
            path: path.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        line.push('\n');
        self.log
            .write_all(line.as_bytes())
            .map_err(|e| SearchError::io(&path, e))?;
        self.log.sync_data().map_err(|e| SearchError::io(&path, e))
    }

    /// Replaces `checkpoint.json` atomically.
    pub fn write_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        write_atomic(&self.dir.join("checkpoint.json"), checkpoint)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| SearchError::Corrupt {
                path: path.to_path_buf(),
                line: e.line(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SearchError::io(path, e)),
    }
}

/// The finished trials of a trial log (`trials.jsonl`), read only: a torn last line (a write
/// cut short by a crash) is left out, any other bad line is an error naming it.
pub fn read_trials(path: &Path) -> Result<Vec<TrialRecord>> {
    Ok(parse_log(path)?.0)
}

/// The records of a trial log and the bytes they take.
fn parse_log(path: &Path) -> Result<(Vec<TrialRecord>, u64)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(SearchError::io(path, e)),
    };
    let mut records = Vec::new();
    let mut good_bytes = 0u64;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| SearchError::io(path, e))?;
        if n == 0 {
            break;
        }
        number += 1;
        if !line.ends_with('\n') {
            // Cut off by a crash mid-write: the trial was not told, so it is evaluated again.
            break;
        }
        let record = serde_json::from_str(line.trim_end()).map_err(|e| SearchError::Corrupt {
            path: path.to_path_buf(),
            line: number,
            message: e.to_string(),
        })?;
        records.push(record);
        good_bytes += n as u64;
    }
    Ok((records, good_bytes))
}

/// Reads the trial log, truncating a torn last line (one without its newline).
fn read_log(path: &Path) -> Result<Vec<TrialRecord>> {
    let (records, good_bytes) = parse_log(path)?;
    if !path.exists() {
        return Ok(records);
    }
    let len = fs::metadata(path)
        .map_err(|e| SearchError::io(path, e))?
        .len();
    if len != good_bytes {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| SearchError::io(path, e))?;
        f.set_len(good_bytes)
            .map_err(|e| SearchError::io(path, e))?;
    }
    Ok(records)
}

/// Writes `value` as JSON to a temporary file beside `path`, syncs it and renames it over
/// `path`, so that a reader sees the old or the new file, never a mix.
pub(crate) fn write_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| SearchError::Corrupt {
        path: path.to_path_buf(),
        line: 0,
        message: e.to_string(),
    })?;
    lopper_core::fs::write_atomic(path, &text).map_err(|e| SearchError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::Point;

    fn record(id: u64) -> TrialRecord {
        TrialRecord {
            id,
            point: Point(vec![id as i64]),
            values: vec![0.5, 1.0],
            fidelity: None,
            eval_seconds: 0.1,
            finished_at: 1.0,
            info: serde_json::Value::Null,
            failure: None,
        }
    }

    #[test]
    fn torn_last_line_is_dropped_and_truncated() {
        let dir = tempfile::tempdir().unwrap();
        {
            let Opened {
                mut store,
                manifest,
                checkpoint,
                records,
            } = RunStore::open(dir.path()).unwrap();
            assert!(manifest.is_none() && checkpoint.is_none() && records.is_empty());
            store.append(&record(0)).unwrap();
            store.append(&record(1)).unwrap();
        }
        let path = dir.path().join("trials.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":2,\"poi").unwrap();
        drop(f);
        let Opened {
            mut store, records, ..
        } = RunStore::open(dir.path()).unwrap();
        assert_eq!(records.len(), 2);
        store.append(&record(2)).unwrap();
        let records = RunStore::open(dir.path()).unwrap().records;
        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("trials.jsonl"), "{\"id\": 1}\n").unwrap();
        let err = RunStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("trials.jsonl:1"), "{err}");
    }
}
