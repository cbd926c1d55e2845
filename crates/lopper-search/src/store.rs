//! The run folder: what a threaded search persists so that it survives a crash.
//!
//! Its memory is an SQLite database, `search.db` (WAL mode, every commit synced), with the
//! schema of the [trial store](crate::TrialStore): one study named `search` holds the
//! settings the search was started with (checked on resume), one row per trial with its
//! record, written and synced as each evaluation finishes and before the optimizer is told,
//! and the optimizer's (and scheduler's) whole state, saved in the same transaction that
//! marks trials told. The crash guarantees are SQLite's: a kill at any instant leaves the
//! last committed state. `lopper study show --store sqlite:DIR/search.db search` shows it.
//!
//! On resume the optimizer is restored from the checkpoint; each outstanding trial whose
//! record is already stored is told from the store, the others are evaluated again. A kill
//! at any instant therefore loses no finished trial, and with one worker the resumed search
//! makes exactly the calls an uninterrupted one would.
//!
//! Folders written by earlier versions (`run.json`, `trials.jsonl`, `checkpoint.json`) are
//! migrated when opened: imported into `search.db` in one transaction, then renamed with a
//! `.migrated` suffix. [`read_trials`] reads either kind without changing it.

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use lopper_core::{Objective, Trial};
use serde::{Deserialize, Serialize};

use crate::db::StoreUrl;
use crate::study::{StudyManifest, StudySettings, TrialStore};
use crate::{Result, SearchError, TrialRecord};

/// The database file of a run folder.
pub const RUN_DB: &str = "search.db";
/// The study a run folder's database holds.
pub const RUN_STUDY: &str = "search";
/// The files of a run folder of earlier versions, migrated on open.
const LEGACY: [&str; 3] = ["run.json", "trials.jsonl", "checkpoint.json"];

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

/// The state a search resumes from.
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
    /// The settings of the search, if one was started here.
    pub manifest: Option<RunManifest>,
    /// Its last checkpoint, if it got that far.
    pub checkpoint: Option<Checkpoint>,
    /// The records of the finished trials, in id order.
    pub records: Vec<TrialRecord>,
}

/// A run folder.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    db: TrialStore,
    /// `search.lock`, locked for as long as the store is open (the operating system lets go
    /// of it when the process ends, however it ends).
    _lock: File,
}

/// The lock file of a run folder: one search at a time writes it.
const RUN_LOCK: &str = "search.lock";

impl RunStore {
    /// Opens (creating if needed) the run folder `dir`, migrating one of an earlier version.
    /// Returns the store, the settings and checkpoint found there (if any), and the records
    /// of the finished trials.
    pub fn open(dir: &Path) -> Result<Opened> {
        fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let lock_path = dir.join(RUN_LOCK);
        let lock = File::create(&lock_path).map_err(|e| SearchError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(SearchError::Resume {
                    path: dir.to_path_buf(),
                    message: "another search is running in this folder".into(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(SearchError::io(&lock_path, e)),
        }
        let mut db = TrialStore::open(&StoreUrl::Sqlite(dir.join(RUN_DB)))?;
        let (mut manifest, mut checkpoint, mut records) = db.run_state(RUN_STUDY)?;
        if manifest.is_some() || checkpoint.is_some() || !records.is_empty() {
            // A migration that committed and was cut off before renaming the old files.
            finish_migration(dir)?;
        } else if LEGACY.iter().any(|f| dir.join(f).exists()) {
            let old_manifest = read_json::<RunManifest>(&dir.join("run.json"))?;
            let old_checkpoint = read_json::<Checkpoint>(&dir.join("checkpoint.json"))?;
            let old_records = parse_log(&dir.join("trials.jsonl"))?;
            db.run_import(
                RUN_STUDY,
                old_manifest.as_ref().map(study_manifest).as_ref(),
                old_checkpoint.as_ref(),
                &old_records,
            )?;
            finish_migration(dir)?;
            (manifest, checkpoint, records) = (old_manifest, old_checkpoint, old_records);
        }
        Ok(Opened {
            store: Self {
                dir: dir.to_path_buf(),
                db,
                _lock: lock,
            },
            manifest,
            checkpoint,
            records,
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the settings of a search starting here (replacing those of a start that
    /// failed before its first ask).
    pub fn write_manifest(&mut self, manifest: &RunManifest) -> Result<()> {
        self.db.run_manifest(RUN_STUDY, &study_manifest(manifest))
    }

    /// Stores one finished trial's record (committed and synced before it is told).
    pub fn append(&mut self, record: &TrialRecord) -> Result<()> {
        self.db.run_append(RUN_STUDY, record)
    }

    /// In one transaction: marks `told` as told to the optimizer and saves `checkpoint`;
    /// `finished`: the search reached its budget.
    pub fn commit(
        &mut self,
        checkpoint: &Checkpoint,
        told: &[TrialRecord],
        finished: bool,
    ) -> Result<()> {
        self.db.run_commit(RUN_STUDY, checkpoint, told, finished)
    }
}

/// A run folder's settings as its study keeps them.
fn study_manifest(run: &RunManifest) -> StudyManifest {
    StudyManifest {
        run: run.clone(),
        settings: StudySettings::default(),
        task: "null".into(),
        max_fidelity: None,
    }
}

/// Renames the files of an earlier version's run folder once they are in `search.db`.
fn finish_migration(dir: &Path) -> Result<()> {
    for name in LEGACY {
        let old = dir.join(name);
        if old.exists() {
            let new = dir.join(format!("{name}.migrated"));
            fs::rename(&old, &new).map_err(|e| SearchError::io(&old, e))?;
        }
    }
    Ok(())
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

/// The finished trials of the run folder `dir`, in id order, read only: from its
/// `search.db`, or from the `trials.jsonl` of a folder of an earlier version (a torn last
/// line, a write cut short by a crash, is left out; any other bad line is an error naming
/// it). A folder with neither has none.
pub fn read_trials(dir: &Path) -> Result<Vec<TrialRecord>> {
    let db = dir.join(RUN_DB);
    if db.is_file() {
        let mut store = TrialStore::open(&StoreUrl::Sqlite(db))?;
        let (manifest, _, records) = store.run_state(RUN_STUDY)?;
        if manifest.is_some() || !records.is_empty() {
            return Ok(records);
        }
    }
    let mut records = parse_log(&dir.join("trials.jsonl"))?;
    records.sort_by_key(|r| r.id);
    Ok(records)
}

/// The records of a trial log of an earlier version; a torn last line is left out.
fn parse_log(path: &Path) -> Result<Vec<TrialRecord>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SearchError::io(path, e)),
    };
    let mut records = Vec::new();
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
    }
    Ok(records)
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

    fn manifest() -> RunManifest {
        RunManifest {
            optimizer: "random".into(),
            optimizer_config: serde_json::Value::Null,
            scheduler: None,
            seed: 3,
            objectives: vec![Objective::minimize("a", ""), Objective::minimize("b", "")],
            dims: 1,
            initial_design: false,
        }
    }

    fn checkpoint(outstanding: Vec<Trial>) -> Checkpoint {
        Checkpoint {
            optimizer: serde_json::json!({"state": 1}),
            scheduler: None,
            outstanding,
            elapsed_seconds: 2.0,
        }
    }

    #[test]
    fn records_and_checkpoints_read_back() {
        let dir = tempfile::tempdir().unwrap();
        {
            let Opened {
                mut store,
                manifest: m,
                checkpoint: c,
                records,
            } = RunStore::open(dir.path()).unwrap();
            assert!(m.is_none() && c.is_none() && records.is_empty());
            store.write_manifest(&manifest()).unwrap();
            store.append(&record(1)).unwrap();
            store.append(&record(0)).unwrap();
            let pending = Trial {
                id: 2,
                point: Point(vec![2]),
            };
            store
                .commit(&checkpoint(vec![pending]), &[record(0)], false)
                .unwrap();
        }
        let opened = RunStore::open(dir.path()).unwrap();
        assert_eq!(opened.manifest, Some(manifest()));
        let cp = opened.checkpoint.unwrap();
        assert_eq!(cp.outstanding.len(), 1);
        assert_eq!(cp.optimizer["state"], 1);
        let ids: Vec<u64> = opened.records.iter().map(|r| r.id).collect();
        assert_eq!(ids, [0, 1]);
        assert_eq!(read_trials(dir.path()).unwrap(), opened.records);
        // A folder that is not a run has no trials, and reading does not make it one.
        let empty = tempfile::tempdir().unwrap();
        assert!(read_trials(empty.path()).unwrap().is_empty());
        assert!(!empty.path().join(RUN_DB).exists());
    }

    #[test]
    fn one_search_at_a_time_writes_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunStore::open(dir.path()).unwrap();
        let err = RunStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("another search is running"), "{err}");
        // Reading needs no lock.
        assert!(read_trials(dir.path()).unwrap().is_empty());
        drop(first);
        assert!(RunStore::open(dir.path()).is_ok());
    }

    #[test]
    fn an_earlier_versions_folder_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(
            p.join("run.json"),
            serde_json::to_string(&manifest()).unwrap(),
        )
        .unwrap();
        let cp = checkpoint(vec![]);
        fs::write(
            p.join("checkpoint.json"),
            serde_json::to_string(&cp).unwrap(),
        )
        .unwrap();
        let mut log = String::new();
        for id in [0, 1] {
            log.push_str(&serde_json::to_string(&record(id)).unwrap());
            log.push('\n');
        }
        // A torn last line, as a crash mid-write leaves it.
        log.push_str("{\"id\":2,\"poi");
        fs::write(p.join("trials.jsonl"), &log).unwrap();
        // Read only: the old folder is read as it is.
        assert_eq!(read_trials(p).unwrap().len(), 2);
        assert!(p.join("trials.jsonl").exists() && !p.join(RUN_DB).exists());

        let opened = RunStore::open(p).unwrap();
        assert_eq!(opened.manifest, Some(manifest()));
        assert_eq!(opened.checkpoint.unwrap().elapsed_seconds, 2.0);
        assert_eq!(opened.records.len(), 2);
        for name in LEGACY {
            assert!(!p.join(name).exists(), "{name}");
            assert!(p.join(format!("{name}.migrated")).exists(), "{name}");
        }
        drop(opened.store);
        let again = RunStore::open(p).unwrap();
        assert_eq!(again.records.len(), 2);
        assert_eq!(again.manifest, Some(manifest()));
    }

    #[test]
    fn a_bad_line_of_an_old_log_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("trials.jsonl"), "{\"id\": 1}\n").unwrap();
        let err = RunStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("trials.jsonl:1"), "{err}");
        // Nothing was migrated: the old files stay for the user to look at.
        assert!(dir.path().join("trials.jsonl").exists());
    }
}
