//! A reader for your own data: CSV, TSV, JSON lines or Parquet, with a column mapping.
//!
//! Name the text column, optionally a second (pair) column, and the label column; the
//! [`Task`] says what labels are: a classification task's labels are matched as strings
//! against its label list (JSON and Parquet numbers and booleans as written: `1`, `true`), a
//! regression task's are parsed as floats. CSV and TSV files need a header row; CSV uses RFC
//! 4180 quoting, TSV none (as GLUE). A JSON-lines file has one object per line; blank lines
//! are skipped, extra keys ignored, and a `null` counts as missing. A Parquet file (the
//! format Hugging Face datasets are stored in) is read row group by row group; its text
//! columns are strings, its label column a string, an integer, a float or a boolean (a
//! `ClassLabel` is an integer); Snappy-compressed and uncompressed pages are read, other
//! codecs are a clear error. Without a label column, the examples are unlabelled. An empty
//! text is an error naming the file and the row: a model cannot learn from it, and it is
//! almost always a column mapped wrongly.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
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
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format of a file by its extension: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`,
    /// `.parquet`.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "parquet" => Some(Format::Parquet),
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

/// Where a row is in its file: a line of a text file, or a row of a Parquet row group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// The 1-based line.
    Line(u64),
    /// The 0-based row group, the 0-based row within it, and the 1-based row of the file.
    Row { group: usize, row: usize, n: u64 },
}

impl At {
    /// The number recorded as [`Example::line`]: the line, or the file's 1-based row.
    fn line(self) -> u64 {
        match self {
            At::Line(n) | At::Row { n, .. } => n,
        }
    }

    fn error(self, path: &Path, source: RowError) -> DataError {
        match self {
            At::Line(line) => DataError::Parse {
                path: path.to_path_buf(),
                line,
                source,
            },
            At::Row { group, row, .. } => DataError::ParquetRow {
                path: path.to_path_buf(),
                group,
                row,
                source,
            },
        }
    }
}

/// A row as read, before its label is interpreted.
#[derive(Debug)]
struct RawRow {
    at: At,
    text: String,
    pair: Option<String>,
    label: Option<String>,
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
        let examples = self
            .raw_rows(path)?
            .into_iter()
            .map(|raw| {
                let label = raw
                    .label
                    .as_deref()
                    .map(|l| self.label(path, raw.at, l))
                    .transpose()?;
                Ok(Example {
                    text: raw.text,
                    pair: raw.pair,
                    choices: Vec::new(),
                    label,
                    line: raw.at.line(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Dataset {
            task: self.task.clone(),
            split,
            examples,
            source: Some(path.to_path_buf()),
        })
    }

    /// The distinct labels of the files `paths` as written (trimmed), sorted: numerically
    /// when every one is a number (so `2` comes before `10`), as strings otherwise. This is a
    /// classification task's label list when none is given.
    pub fn label_values(&self, paths: &[&Path]) -> Result<Vec<String>> {
        let Some(column) = &self.columns.label else {
            return Err(DataError::Invalid(
                "no label column: the labels cannot be read from the data".into(),
            ));
        };
        let mut seen = BTreeSet::new();
        for path in paths {
            for raw in self.raw_rows(path)? {
                match raw.label {
                    Some(l) => seen.insert(l.trim().to_owned()),
                    None => {
                        return Err(raw.at.error(
                            path,
                            RowError::Invalid(format!("no label in column `{column}`")),
                        ));
                    }
                };
            }
        }
        let mut labels: Vec<String> = seen.into_iter().collect();
        let numbers: Option<Vec<f64>> = labels.iter().map(|l| l.parse::<f64>().ok()).collect();
        if let Some(numbers) = numbers {
            let mut pairs: Vec<(f64, String)> = numbers.into_iter().zip(labels).collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            labels = pairs.into_iter().map(|(_, l)| l).collect();
        }
        Ok(labels)
    }

    fn format(&self, path: &Path) -> Result<Format> {
        self.format
            .or_else(|| Format::from_path(path))
            .ok_or_else(|| {
                DataError::Invalid(format!(
                    "{}: unknown format: give one, or use a .csv, .tsv, .jsonl or .parquet file",
                    path.display()
                ))
            })
    }

    fn raw_rows(&self, path: &Path) -> Result<Vec<RawRow>> {
        let rows = match self.format(path)? {
            Format::Csv => self.read_table(path, Delimited::Csv)?,
            Format::Tsv => self.read_table(path, Delimited::Tsv)?,
            Format::Jsonl => self.read_jsonl(path)?,
            Format::Parquet => self.read_parquet(path)?,
        };
        for raw in &rows {
            let texts = std::iter::once((&self.columns.text, &raw.text))
                .chain(self.columns.pair.iter().zip(raw.pair.iter()));
            for (column, text) in texts {
                if text.trim().is_empty() {
                    return Err(raw.at.error(
                        path,
                        RowError::Invalid(format!("empty text in column `{column}`")),
                    ));
                }
            }
        }
        Ok(rows)
    }

    fn label(&self, path: &Path, at: At, raw: &str) -> Result<Label> {
        self.task.parse_label(raw).map_err(|expected| match at {
            At::Line(line) => DataError::UnknownLabel {
                path: path.to_path_buf(),
                line,
                label: raw.to_owned(),
                expected,
            },
            At::Row { .. } => at.error(
                path,
                RowError::Invalid(format!("unknown label `{raw}`: expected {expected}")),
            ),
        })
    }

    fn read_table(&self, path: &Path, kind: Delimited) -> Result<Vec<RawRow>> {
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
        let mut rows = Vec::new();
        while let Some(row) = table.next_row()? {
            rows.push(RawRow {
                at: At::Line(row.line),
                text: row.get(text).to_owned(),
                pair: pair.map(|i| row.get(i).to_owned()),
                label: label.map(|i| row.get(i).to_owned()),
            });
        }
        table.finish()?;
        Ok(rows)
    }

    fn read_jsonl(&self, path: &Path) -> Result<Vec<RawRow>> {
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut rows = Vec::new();
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
            rows.push(RawRow {
                at: At::Line(n),
                text: field(&self.columns.text)?,
                pair: self.columns.pair.as_deref().map(field).transpose()?,
                label: self.columns.label.as_deref().map(field).transpose()?,
            });
        }
        if rows.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
                expected: "at least one JSON object".into(),
            });
        }
        Ok(rows)
    }

    fn read_parquet(&self, path: &Path) -> Result<Vec<RawRow>> {
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file_error = |source| DataError::ParquetFile {
            path: path.to_path_buf(),
            source,
        };
        let reader = SerializedFileReader::new(file).map_err(file_error)?;
        let metadata = reader.metadata();
        let fields = metadata
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields();
        let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
        let index = |column: &str| -> Result<usize> {
            names
                .iter()
                .position(|n| *n == column)
                .ok_or_else(|| DataError::MissingParquetColumn {
                    path: path.to_path_buf(),
                    column: column.to_owned(),
                    found: names.join(", "),
                })
        };
        let text = index(&self.columns.text)?;
        let pair = self.columns.pair.as_deref().map(index).transpose()?;
        let label = self.columns.label.as_deref().map(index).transpose()?;
        let mut rows = Vec::new();
        for group in 0..metadata.num_row_groups() {
            let reader = reader.get_row_group(group).map_err(file_error)?;
            let iter = reader.get_row_iter(None).map_err(file_error)?;
            for (row, record) in iter.enumerate() {
                let at = At::Row {
                    group,
                    row,
                    n: rows.len() as u64 + 1,
                };
                let record = record.map_err(|e| at.error(path, e.into()))?;
                let columns: Vec<&Field> = record.get_column_iter().map(|(_, f)| f).collect();
                let value = |i: usize, text: bool| -> Result<String> {
                    let name = names.get(i).copied().unwrap_or_default();
                    let invalid =
                        |what: &str| at.error(path, RowError::Invalid(format!("`{name}`: {what}")));
                    match columns.get(i) {
                        Some(Field::Str(s)) => Ok(s.clone()),
                        Some(Field::Null) | None => Err(invalid("missing (null)")),
                        Some(
                            f @ (Field::Bool(_)
                            | Field::Byte(_)
                            | Field::Short(_)
                            | Field::Int(_)
                            | Field::Long(_)
                            | Field::UByte(_)
                            | Field::UShort(_)
                            | Field::UInt(_)
                            | Field::ULong(_)
                            | Field::Float(_)
                            | Field::Double(_)),
                        ) if !text => Ok(f.to_string()),
                        Some(Field::Bytes(_)) => Err(invalid("bytes that are not UTF-8 text")),
                        Some(_) if text => Err(invalid("expected a string")),
                        Some(_) => Err(invalid("expected a string, a number or a boolean")),
                    }
                };
                rows.push(RawRow {
                    at,
                    text: value(text, true)?,
                    pair: pair.map(|i| value(i, true)).transpose()?,
                    label: label.map(|i| value(i, false)).transpose()?,
                });
            }
        }
        if rows.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
                expected: "at least one row".into(),
            });
        }
        Ok(rows)
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
        assert_eq!(
            Format::from_path(Path::new("train-00000-of-00001.parquet")),
            Some(Format::Parquet)
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

    #[test]
    fn label_values_sort_numbers_as_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "t,y\na,10\nb,2\nc, 2\nd,-1\n").unwrap();
        let task = Task::classification("mine", &[], Metric::Accuracy);
        let reader = GenericReader::new(task, Columns::new("t", "y"));
        assert_eq!(reader.label_values(&[&path]).unwrap(), ["-1", "2", "10"]);
        std::fs::write(&path, "t,y\na,pos\nb,neg\nc,10\n").unwrap();
        assert_eq!(reader.label_values(&[&path]).unwrap(), ["10", "neg", "pos"]);
    }

    #[test]
    fn an_empty_text_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "t,y\na,1\n  ,0\n").unwrap();
        let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
        let err = GenericReader::new(task, Columns::new("t", "y"))
            .read(&path, Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("d.csv:3:") && err.contains("empty text in column `t`"),
            "{err}"
        );
    }
}
