//! A study's results file: one CSV per study, rows appended as units finish, one row per
//! member of a unit's front (and one for the unit's unpruned network), each with the unit's
//! key, wall-clock time, settings and the lopper commit that made it. The file is the study's
//! memory: a unit with rows is done, so a rerun (on any machine, from a checkout) skips it.

use std::fs::OpenOptions;
use std::path::Path;

use anyhow::{Context, Result};
use lopper::data::TaskSource;
use serde::{Deserialize, Serialize};

use crate::methods::{Method, Unit};
use crate::scale::Scale;

/// What a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    /// A member of the unit's front.
    Member,
    /// The unit's unpruned network (for RFP and HP: the `standard` fine-tuned model, the
    /// study's y*; for WS-NAS: the super-network's largest member).
    Full,
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The scale of the unit.
    pub scale: Scale,
    /// Its task.
    pub task: TaskSource,
    /// Its method.
    pub method: Method,
    /// Its seed.
    pub seed: u64,
    /// A front member or the unpruned network.
    pub kind: RowKind,
    /// The member's id in its front (absent for the unpruned network).
    pub id: Option<u64>,
    /// Parameter fraction as the paper counts it (embeddings, pooler and head included).
    pub params: f64,
    /// Parameter fraction of the encoder's layers alone.
    pub encoder_params: f64,
    /// Validation error (1 − the task's metric).
    pub validation_error: f64,
    /// Test error (the official dev split).
    pub test_error: Option<f64>,
    /// The sub-network.
    pub subnet: String,
    /// Wall-clock seconds of the whole unit (every row of a unit has the same).
    pub seconds: f64,
    /// The lopper commit that ran the unit (`+dirty` when the tree had changes).
    pub commit: String,
    /// The scale's budgets ([`crate::scale::Settings::describe`]).
    pub settings: String,
}

impl Row {
    /// Whether the row belongs to `unit` at `scale`.
    pub fn is_of(&self, scale: Scale, unit: &Unit) -> bool {
        self.scale == scale
            && self.task == unit.task
            && self.method == unit.method
            && self.seed == unit.seed
    }
}

/// Every row of `path` (none when it does not exist).
pub fn read(path: &Path) -> Result<Vec<Row>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, r)| r.with_context(|| format!("{}: row {}", path.display(), i + 2)))
        .collect()
}

/// Appends `rows` (one unit's) to `path`, the header first when the file is new, and flushes
/// them before returning: a unit's rows land whole or, if the process dies while writing,
/// as a torn last line that [`read`] reports.
pub fn append(path: &Path, rows: &[Row]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let new = !path.is_file()
        || std::fs::metadata(path)
            .map(|m| m.len() == 0)
            .unwrap_or(true);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut writer = csv::WriterBuilder::new().has_headers(new).from_writer(file);
    for row in rows {
        writer
            .serialize(row)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    writer
        .flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Whether `rows` hold `unit` at `scale`.
pub fn done(rows: &[Row], scale: Scale, unit: &Unit) -> bool {
    rows.iter().any(|r| r.is_of(scale, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: Method, id: Option<u64>) -> Row {
        Row {
            scale: Scale::Smoke,
            task: TaskSource::MovieReviews,
            method,
            seed: 0,
            kind: if id.is_some() {
                RowKind::Member
            } else {
                RowKind::Full
            },
            id,
            params: 0.75,
            encoder_params: 0.5,
            validation_error: 0.25,
            test_error: id.map(|i| i as f64 / 10.0),
            subnet: "6 layers [6h/768u ×6]".into(),
            seconds: 12.5,
            commit: "abc+dirty".into(),
            settings: "train=16;validation=24".into(),
        }
    }

    #[test]
    fn rows_round_trip_and_mark_their_unit_done() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("study").join("methods.csv");
        let first = vec![row(Method::Hp, None), row(Method::Hp, Some(3))];
        append(&path, &first).unwrap_or_else(|e| panic!("{e:#}"));
        append(&path, &[row(Method::Rfp, Some(1))]).unwrap_or_else(|e| panic!("{e:#}"));
        let back = read(&path).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(back.len(), 3);
        assert_eq!(back[..2], first[..]);
        let unit = |method| Unit {
            task: TaskSource::MovieReviews,
            method,
            seed: 0,
        };
        assert!(done(&back, Scale::Smoke, &unit(Method::Hp)));
        assert!(!done(&back, Scale::Reduced, &unit(Method::Hp)));
        assert!(!done(&back, Scale::Smoke, &unit(Method::Ld)));
        assert_eq!(back[2].method, Method::Rfp);
    }

    #[test]
    fn a_torn_row_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("methods.csv");
        append(&path, &[row(Method::Hp, Some(1))]).unwrap_or_else(|e| panic!("{e:#}"));
        let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
        text.push_str("smoke,movie-reviews,hp,0,mem");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let err = format!("{:#}", read(&path).err().unwrap_or_else(|| panic!("read")));
        assert!(err.contains("row 3"), "{err}");
    }
}
