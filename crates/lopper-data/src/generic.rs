//! A reader for your own data: CSV, TSV or JSON lines, with a column mapping.
//!
//! Name the text column, optionally a second (pair) column, and the label column; the
//! [`Task`] says what labels are: a classification task's labels are matched as strings
//! against its label list (JSON numbers and booleans as written: `1`, `true`), a regression
//! task's are parsed as floats. CSV and TSV files need a header row; CSV uses RFC 4180
//! quoting, TSV none (as GLUE). A JSON-lines file has one object per line; blank lines are
//! skipped, extra keys ignored, and a `null` counts as missing. Without a label column, the
//! examples are unlabelled.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::error::RowError;
use crate::table::{Delimited, Table};
use crate::{DataError, Dataset, Example, Label, Result, Split, Task, TaskKind};

/// A file format of the generic reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header, RFC 4180 quoting.
    Csv,
    /// Tab-separated values with a header, quoting off.
    Tsv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format of a file by its extension: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Which columns (or JSON keys) hold the text, the pair and the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// The (first) text.
    pub text: String,
    /// The second text of a pair task.
    pub pair: Option<String>,
    /// The label; `None` for unlabelled data.
    pub label: Option<String>,
}

impl Columns {
    /// Text and label columns.
    pub fn new(text: &str, label: &str) -> Self {
        Self {
            text: text.into(),
            pair: None,
            label: Some(label.into()),
        }
    }

    /// Text, pair and label columns.
    pub fn pair(text: &str, pair: &str, label: &str) -> Self {
        Self {
            pair: Some(pair.into()),
            ..Self::new(text, label)
        }
    }

    /// The same mapping without a label column (unlabelled data).
    pub fn unlabelled(mut self) -> Self {
        self.label = None;
        self
    }
}

/// Reads files of a classification or regression task with a column mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericReader {
    /// The task (classification with its label list, or regression).
    pub task: Task,
    /// The column mapping.
    pub columns: Columns,
    /// The format; `None` to go by each file's extension.
    pub format: Option<Format>,
}

impl GenericReader {
    /// A reader of `task`'s files with the mapping `columns`, format by extension.
    pub fn new(task: Task, columns: Columns) -> Self {
        Self {
            task,
            columns,
            format: None,
        }
    }

    /// The same reader with a fixed format.
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Reads the file `path`, recording it as `split`.
    pub fn read(&self, path: &Path, split: Split) -> Result<Dataset> {
        if let TaskKind::MultipleChoice { .. } = self.task.kind {
            return Err(DataError::Invalid(format!(
                "the generic reader handles classification and regression, not the multiple-choice task {}",
                self.task.name
            )));
        }
        let format = self
            .format
            .or_else(|| Format::from_path(path))
            .ok_or_else(|| {
                DataError::Invalid(format!(
                    "{}: unknown format: give one, or use a .csv, .tsv or .jsonl file",
                    path.display()
                ))
            })?;
        let examples = match format {
            Format::Csv => self.read_table(path, Delimited::Csv)?,
            Format::Tsv => self.read_table(path, Delimited::Tsv)?,
            Format::Jsonl => self.read_jsonl(path)?,
        };
        Ok(Dataset {
            task: self.task.clone(),
            split,
            examples,
            source: Some(path.to_path_buf()),
        })
    }

    fn label(&self, path: &Path, line: u64, raw: &str) -> Result<Label> {
        self.task
            .parse_label(raw)
            .map_err(|expected| DataError::UnknownLabel {
                path: path.to_path_buf(),
                line,
                label: raw.to_owned(),
                expected,
            })
    }

    fn read_table(&self, path: &Path, kind: Delimited) -> Result<Vec<Example>> {
        let mut table = Table::open(path, kind, true, None)?;
        let text = table.column(&self.columns.text)?;
        let pair = self
            .columns
            .pair
            .as_deref()
            .map(|c| table.column(c))
            .transpose()?;
        let label = self
            .columns
            .label
            .as_deref()
            .map(|c| table.column(c))
            .transpose()?;
        let mut examples = Vec::new();
        while let Some(row) = table.next_row()? {
            let label = label
                .map(|i| self.label(path, row.line, row.get(i)))
                .transpose()?;
            examples.push(Example {
                text: row.get(text).to_owned(),
                pair: pair.map(|i| row.get(i).to_owned()),
                choices: Vec::new(),
                label,
                line: row.line,
            });
        }
        table.finish()?;
        Ok(examples)
    }

    fn read_jsonl(&self, path: &Path) -> Result<Vec<Example>> {
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut examples = Vec::new();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let n = i as u64 + 1;
            let parse_error = |source: RowError| DataError::Parse {
                path: path.to_path_buf(),
                line: n,
                source,
            };
            let line = line.map_err(|e| parse_error(e.into()))?;
            let line = line.trim_start_matches('\u{feff}').trim();
            if line.is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(line).map_err(|e| parse_error(e.into()))?;
            let Value::Object(object) = value else {
                return Err(parse_error(RowError::Invalid(
                    "expected a JSON object".into(),
                )));
            };
            let field = |key: &str| -> Result<String> {
                match object.get(key) {
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
                    Some(Value::Array(_) | Value::Object(_)) => Err(parse_error(
                        RowError::Invalid(format!("`{key}`: expected a string or a number")),
                    )),
                    None | Some(Value::Null) => Err(DataError::MissingColumn {
                        path: path.to_path_buf(),
                        line: n,
                        column: key.to_owned(),
                        found: object.keys().cloned().collect::<Vec<_>>().join(", "),
                    }),
                }
            };
            let text = field(&self.columns.text)?;
            let pair = self.columns.pair.as_deref().map(field).transpose()?;
            let label = match self.columns.label.as_deref() {
                Some(key) => Some(self.label(path, n, &field(key)?)?),
                None => None,
            };
            examples.push(Example {
                text,
                pair,
                choices: Vec::new(),
                label,
                line: n,
            });
        }
        if examples.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
                expected: "at least one JSON object".into(),
            });
        }
        Ok(examples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metric;

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.TSV")), Some(Format::Tsv));
        assert_eq!(
            Format::from_path(Path::new("b.ndjson")),
            Some(Format::Jsonl)
        );
        assert_eq!(Format::from_path(Path::new("b.txt")), None);
    }

    #[test]
    fn jsonl_numbers_match_string_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        std::fs::write(
            &path,
            "{\"t\": \"hi\", \"y\": 1}\n\n{\"t\": \"yo\", \"y\": \"0\"}\n",
        )
        .unwrap();
        let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
        let d = GenericReader::new(task, Columns::new("t", "y"))
            .read(&path, Split::Train)
            .unwrap();
        assert_eq!(d.labels(), Some(vec![Label::Class(1), Label::Class(0)]));
        assert_eq!(d.examples[1].line, 3);
    }
}
