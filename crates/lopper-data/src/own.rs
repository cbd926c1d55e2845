//! Your own task: a classification or regression task on your own files.
//!
//! The data is a file (the training set alone) or a folder holding a training file and,
//! optionally, a validation and a test file, each in CSV, TSV, JSON lines or Parquet
//! ([`GenericReader`]): a file belongs to a set by its name before the extension, or before
//! the first `-` (the Hugging Face shards `train-00000-of-00002.parquet`, …, which are read
//! in name order as one set): `train`; `validation`, `valid`, `val` or `dev`; `test`. A
//! folder without such files is looked into once more at `data/` (the hub's usual layout). A
//! hub dataset is named `hf:ORG/NAME` or `hf:ORG/NAME:CONFIG` ([`resolve_data`]).
//!
//! The sets: the training file trains. A validation file validates; without one the paper's
//! protocol divides the training file 70/30 by its seed (the plain protocol needs the file).
//! The test set is the test file when there is one, unless [`OwnTask::test_split`] says
//! otherwise: `validation` makes the validation file the test set (the paper's protocol on
//! GLUE: validation then comes from the training file), `none` runs without a test set.
//! Without a test file the user must say which, rather than lopper guessing.
//!
//! A classification task's labels are the list given, in class-index order, or else the
//! sorted distinct values of the training file's label column
//! ([`GenericReader::label_values`]); [`OwnTask::resolve`] fills them in so that a record
//! keeps the order the model was trained with.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::generic::{Columns, Format, GenericReader};
use crate::hub::resolve_data;
use crate::{DataError, Dataset, Metric, Protocol, Result, Split, SplitRecord, Splits, Task};

/// What your task predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OwnKind {
    /// One of a list of labels; scored by accuracy.
    Classification,
    /// A real number; scored by Spearman's rank correlation (as STS-B in the paper).
    Regression,
}

impl OwnKind {
    /// `classification` or `regression`.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnKind::Classification => "classification",
            OwnKind::Regression => "regression",
        }
    }
}

/// Which set of your data is the test set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestSplit {
    /// The test file.
    Test,
    /// The validation file (validation is then taken from the training file).
    Validation,
    /// No test set.
    None,
}

impl fmt::Display for TestSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestSplit::Test => "test",
            TestSplit::Validation => "validation",
            TestSplit::None => "none",
        })
    }
}

impl FromStr for TestSplit {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "test" => Ok(TestSplit::Test),
            "validation" => Ok(TestSplit::Validation),
            "none" => Ok(TestSplit::None),
            other => Err(DataError::Invalid(format!(
                "unknown test split `{other}`: expected test, validation or none"
            ))),
        }
    }
}

/// A classification or regression task on your own files, with its column mapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnTask {
    /// Classification or regression.
    pub kind: OwnKind,
    /// The text column, or the two columns of a sentence pair.
    pub text_columns: Vec<String>,
    /// The label (or target) column.
    pub label_column: String,
    /// A classification task's labels in class-index order; `None`: the sorted distinct
    /// values of the training file's label column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// Which set is the test set; `None`: the test file, which must then exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_split: Option<TestSplit>,
}

/// The files of each set of a task's data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnFiles {
    /// The training files (shards in name order).
    pub train: Vec<PathBuf>,
    /// The validation files.
    pub validation: Vec<PathBuf>,
    /// The test files.
    pub test: Vec<PathBuf>,
}

impl OwnFiles {
    /// The files of `data`: a file (the training set alone) or a folder (see the module
    /// documentation), after resolving a hub dataset.
    pub fn find(data: &Path) -> Result<Self> {
        let data = resolve_data(data, None)?;
        if data.is_file() {
            return Ok(Self {
                train: vec![data],
                ..Self::default()
            });
        }
        let mut files = Self::in_folder(&data)?;
        if files.train.is_empty() && data.join("data").is_dir() {
            files = Self::in_folder(&data.join("data"))?;
        }
        if files.train.is_empty() {
            let mut found: Vec<String> = std::fs::read_dir(&data)
                .map_err(|source| DataError::Io {
                    path: data.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect();
            found.sort();
            return Err(DataError::Invalid(format!(
                "{}: no training file: expected train.csv, train.tsv, train.jsonl or train.parquet (or train-*.parquet shards); found: {}",
                data.display(),
                if found.is_empty() {
                    "nothing".to_string()
                } else {
                    found.join(", ")
                }
            )));
        }
        Ok(files)
    }

    fn in_folder(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| DataError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if path.is_file() && Format::from_path(&path).is_some() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Self::default();
        for path in paths {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            let set = stem.split('-').next().unwrap_or_default();
            match set {
                "train" => files.train.push(path),
                "validation" | "valid" | "val" | "dev" => files.validation.push(path),
                "test" => files.test.push(path),
                _ => {}
            }
        }
        Ok(files)
    }
}

impl OwnTask {
    /// A task of `kind` without a column mapping yet (see [`OwnTask::check`]).
    pub fn new(kind: OwnKind) -> Self {
        Self {
            kind,
            text_columns: Vec::new(),
            label_column: String::new(),
            labels: None,
            test_split: None,
        }
    }

    /// Checks the column mapping.
    pub fn check(&self) -> Result<()> {
        let kind = self.kind.as_str();
        if self.text_columns.is_empty() || self.text_columns.len() > 2 {
            return Err(DataError::Invalid(format!(
                "a {kind} task needs one text column, or two for sentence pairs (--text-column, given once or twice); got {}",
                self.text_columns.len()
            )));
        }
        if self.text_columns.iter().any(|c| c.is_empty()) || self.label_column.is_empty() {
            return Err(DataError::Invalid(format!(
                "a {kind} task needs its text and label columns named (--text-column, --label-column)"
            )));
        }
        match (&self.labels, self.kind) {
            (Some(_), OwnKind::Regression) => Err(DataError::Invalid(
                "a regression task has no label list (--labels is for classification)".into(),
            )),
            (Some(labels), OwnKind::Classification) => {
                let mut sorted: Vec<&String> = labels.iter().collect();
                sorted.sort();
                sorted.dedup();
                if labels.len() < 2 || sorted.len() != labels.len() {
                    Err(DataError::Invalid(format!(
                        "a classification task needs at least two distinct labels; got {}",
                        labels.join(",")
                    )))
                } else {
                    Ok(())
                }
            }
            (None, _) => Ok(()),
        }
    }

    /// The task: kind, labels (empty until [resolved](OwnTask::resolve) when none were
    /// given), metric.
    pub fn task(&self) -> Task {
        let name = self.kind.as_str();
        match self.kind {
            OwnKind::Classification => {
                let labels: Vec<&str> = self.labels.iter().flatten().map(String::as_str).collect();
                Task::classification(name, &labels, Metric::Accuracy)
            }
            OwnKind::Regression => Task::regression(name, Metric::Spearman),
        }
    }

    fn columns(&self) -> Columns {
        match self.text_columns.as_slice() {
            [text, pair] => Columns::pair(text, pair, &self.label_column),
            [text, ..] => Columns::new(text, &self.label_column),
            [] => Columns::new("", &self.label_column),
        }
    }

    /// The same task with its labels read from `data`'s training files if none were given.
    pub fn resolve(&self, data: &Path) -> Result<Self> {
        self.check()?;
        if self.kind == OwnKind::Regression || self.labels.is_some() {
            return Ok(self.clone());
        }
        self.resolve_with(&OwnFiles::find(data)?)
    }

    fn resolve_with(&self, files: &OwnFiles) -> Result<Self> {
        self.check()?;
        if self.kind == OwnKind::Regression || self.labels.is_some() {
            return Ok(self.clone());
        }
        let reader = GenericReader::new(self.task(), self.columns());
        let paths: Vec<&Path> = files.train.iter().map(PathBuf::as_path).collect();
        let labels = reader.label_values(&paths)?;
        let resolved = Self {
            labels: Some(labels),
            ..self.clone()
        };
        resolved.check()?;
        Ok(resolved)
    }

    fn read_files(&self, paths: &[PathBuf], split: Split) -> Result<Dataset> {
        let reader = GenericReader::new(self.task(), self.columns());
        let mut sets = paths.iter().map(|p| reader.read(p, split));
        let mut all = match sets.next() {
            Some(first) => first?,
            None => {
                return Err(DataError::NoSuchSplit {
                    task: self.kind.as_str().into(),
                    split: split.to_string(),
                });
            }
        };
        for set in sets {
            all.examples.extend(set?.examples);
        }
        if paths.len() > 1 {
            // Several shards: the set comes from their folder.
            all.source = paths[0].parent().map(Path::to_path_buf);
        }
        Ok(all)
    }

    /// Reads one of `data`'s files: the training (`Train`), validation (`Dev`) or test
    /// (`Test`) file.
    pub fn read(&self, data: &Path, split: Split) -> Result<Dataset> {
        let files = OwnFiles::find(data)?;
        let task = self.resolve_with(&files)?;
        let paths = match split {
            Split::Train => &files.train,
            Split::Dev => &files.validation,
            Split::Test => &files.test,
        };
        task.read_files(paths, split)
    }

    /// The training, validation and test sets of `data` (see the module documentation).
    pub fn splits(&self, data: &Path, protocol: &Protocol) -> Result<Splits> {
        let files = OwnFiles::find(data)?;
        let task = self.resolve_with(&files)?;
        let shown = data.display();
        let test_split = match self.test_split {
            Some(t) => t,
            None if !files.test.is_empty() => TestSplit::Test,
            None => {
                return Err(DataError::Invalid(format!(
                    "{shown} has no test file: say which set is the test set: --test-split validation (the validation file; validation is then split off the training file) or --test-split none"
                )));
            }
        };
        let required = |paths: &[PathBuf], what: &str| -> Result<()> {
            if paths.is_empty() {
                Err(DataError::Invalid(format!(
                    "{shown} has no {what} file, which --test-split {test_split} takes as the test set"
                )))
            } else {
                Ok(())
            }
        };
        let train = task.read_files(&files.train, Split::Train)?;
        let test = match test_split {
            TestSplit::Test => {
                required(&files.test, "test")?;
                Some(task.read_files(&files.test, Split::Test)?)
            }
            TestSplit::Validation => {
                required(&files.validation, "validation")?;
                Some(task.read_files(&files.validation, Split::Dev)?)
            }
            TestSplit::None => None,
        };
        let validation = if test_split != TestSplit::Validation && !files.validation.is_empty() {
            Some(task.read_files(&files.validation, Split::Dev)?)
        } else {
            None
        };
        let test_len = test.as_ref().map_or(0, Dataset::len);
        match (validation, protocol) {
            (Some(validation), _) => Ok(Splits {
                record: SplitRecord {
                    protocol: protocol.kind(),
                    seed: None,
                    train_fraction: None,
                    validation_cap: None,
                    official_train: train.len(),
                    official_dev: validation.len(),
                    validation_dropped: 0,
                },
                train,
                validation,
                test,
            }),
            (None, Protocol::Paper(_)) => {
                let placeholder = Dataset {
                    examples: Vec::new(),
                    ..train.clone()
                };
                let mut splits = protocol.apply(train, placeholder)?;
                splits.test = test;
                splits.record.official_dev = test_len;
                Ok(splits)
            }
            (None, Protocol::Plain) => Err(DataError::Invalid(format!(
                "{shown} has no validation file for the plain protocol to validate on: add one, or use the paper protocol (a 70/30 split of the training file)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Label, PaperProtocol};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn rows(n: usize, offset: usize) -> String {
        let mut s = String::from("sentence,label\n");
        for i in 0..n {
            s.push_str(&format!("text {},{}\n", i + offset, ["neg", "pos"][i % 2]));
        }
        s
    }

    fn task() -> OwnTask {
        OwnTask {
            text_columns: vec!["sentence".into()],
            label_column: "label".into(),
            ..OwnTask::new(OwnKind::Classification)
        }
    }

    #[test]
    fn a_folder_of_three_files_gives_its_three_sets() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train.csv", &rows(10, 0));
        write(dir.path(), "validation.csv", &rows(4, 100));
        write(dir.path(), "test.csv", &rows(3, 200));
        write(dir.path(), "notes.txt", "ignored");
        let s = task()
            .splits(dir.path(), &Protocol::Paper(PaperProtocol::new(0)))
            .unwrap();
        assert_eq!((s.train.len(), s.validation.len()), (10, 4));
        assert_eq!(s.test.as_ref().map(Dataset::len), Some(3));
        assert_eq!(s.validation.examples[0].text, "text 100");
        // Labels sorted: neg = 0, pos = 1.
        assert_eq!(s.train.examples[1].label, Some(Label::Class(1)));
        assert_eq!(
            task().resolve(dir.path()).unwrap().labels,
            Some(vec!["neg".to_string(), "pos".to_string()])
        );
    }

    #[test]
    fn without_a_validation_file_the_paper_protocol_splits_train() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-00000-of-00002.csv", &rows(6, 0));
        write(dir.path(), "train-00001-of-00002.csv", &rows(4, 6));
        write(dir.path(), "dev.csv", &rows(5, 100));
        let paper = Protocol::Paper(PaperProtocol::new(3));
        let own = OwnTask {
            test_split: Some(TestSplit::Validation),
            ..task()
        };
        let s = own.splits(dir.path(), &paper).unwrap();
        assert_eq!((s.train.len(), s.validation.len()), (7, 3));
        assert_eq!(s.test.as_ref().map(Dataset::len), Some(5));
        assert_eq!(s.record.seed, Some(3));
        assert_eq!((s.record.official_train, s.record.official_dev), (10, 5));
        // The same seed, the same split.
        assert_eq!(own.splits(dir.path(), &paper).unwrap(), s);
        // No test file and no word on it: an error that says what to do.
        let err = task().splits(dir.path(), &paper).unwrap_err().to_string();
        assert!(err.contains("--test-split validation"), "{err}");
        // The plain protocol needs a validation file.
        let own = OwnTask {
            test_split: Some(TestSplit::Validation),
            ..task()
        };
        let err = own
            .splits(dir.path(), &Protocol::Plain)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no validation file"), "{err}");
    }

    #[test]
    fn a_single_file_trains_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "mine.jsonl",
            "{\"sentence\": \"a\", \"label\": 2.5}\n{\"sentence\": \"b\", \"label\": 1}\n{\"sentence\": \"c\", \"label\": 0}\n",
        );
        let own = OwnTask {
            kind: OwnKind::Regression,
            test_split: Some(TestSplit::None),
            ..task()
        };
        let s = own
            .splits(&file, &Protocol::Paper(PaperProtocol::new(0)))
            .unwrap();
        assert_eq!(
            (s.train.len(), s.validation.len(), s.test.is_none()),
            (2, 1, true)
        );
        assert_eq!(own.task().num_outputs(), 1);
    }

    #[test]
    fn bad_mappings_and_folders_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "other.csv", &rows(3, 0));
        let err = task()
            .read(dir.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no training file") && err.contains("other.csv"),
            "{err}"
        );
        let err = OwnTask::new(OwnKind::Classification)
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("--text-column"), "{err}");
        let one = OwnTask {
            labels: Some(vec!["a".into(), "a".into()]),
            ..task()
        };
        assert!(one.check().is_err());
        write(dir.path(), "train.csv", "sentence,y\na,1\n");
        let err = task()
            .read(dir.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing column `label`") && err.contains("sentence, y"),
            "{err}"
        );
    }

    #[test]
    fn serde_round_trips_and_rejects_unknown_fields() {
        let own = OwnTask {
            text_columns: vec!["a".into(), "b".into()],
            labels: Some(vec!["x".into(), "y".into()]),
            test_split: Some(TestSplit::Validation),
            ..task()
        };
        let json = serde_json::to_string(&own).unwrap();
        assert!(json.contains("\"kind\":\"classification\""), "{json}");
        assert_eq!(serde_json::from_str::<OwnTask>(&json).unwrap(), own);
        assert!(serde_json::from_str::<OwnTask>("{\"kind\":\"regression\",\"text_columns\":[\"a\"],\"label_column\":\"y\",\"oops\":1}").is_err());
    }
}
