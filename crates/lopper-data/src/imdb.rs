//! IMDB movie-review sentiment, in the common CSV layout.
//!
//! The layout is that of the widely shared "IMDB Dataset of 50K Movie Reviews" CSV: a header
//! `review,sentiment`, RFC 4180 quoting (reviews contain commas, quotes and line breaks), and
//! `positive`/`negative` labels (class 1 and 0, as in the Hugging Face `imdb` dataset).
//! Reviews are kept as written, `<br />` tags included (as the Hugging Face copy has them).
//!
//! A folder holds `train.csv` (the official 25,000 training reviews) and `test.csv` (the
//! official 25,000 test reviews). IMDB has no dev split: [`Split::Dev`] reads `test.csv`,
//! the labelled held-out split, which is what the paper's protocol uses as its test set;
//! [`Split::Test`] is an error. Extra columns are ignored.

use std::path::{Path, PathBuf};

use crate::metrics::Metric;
use crate::table::{Delimited, Table};
use crate::{DataError, Dataset, Example, Result, Split, Task};

/// The IMDB task: classes `negative` (0) and `positive` (1), accuracy.
pub fn imdb_task() -> Task {
    Task::classification("imdb", &["negative", "positive"], Metric::Accuracy)
}

/// The file of `split` in an IMDB folder (`train.csv`, or `test.csv` for [`Split::Dev`]).
pub fn imdb_path(dir: &Path, split: Split) -> Result<PathBuf> {
    match split {
        Split::Train => Ok(dir.join("train.csv")),
        Split::Dev => Ok(dir.join("test.csv")),
        Split::Test => Err(DataError::NoSuchSplit {
            task: "imdb".into(),
            split: "test (its labelled test file is read as the dev split)".into(),
        }),
    }
}

/// Reads `split` from the IMDB folder `dir`.
pub fn read_imdb(dir: &Path, split: Split) -> Result<Dataset> {
    read_imdb_file(&imdb_path(dir, split)?, split)
}

/// Reads one IMDB CSV file (`review,sentiment`), recording it as `split`.
pub fn read_imdb_file(path: &Path, split: Split) -> Result<Dataset> {
    let task = imdb_task();
    let mut table = Table::open(path, Delimited::Csv, true, None)?;
    let text = table.column("review")?;
    let label = table.column("sentiment")?;
    let mut examples = Vec::new();
    while let Some(row) = table.next_row()? {
        let raw = row.get(label);
        let parsed = task
            .parse_label(raw)
            .map_err(|expected| DataError::UnknownLabel {
                path: path.to_path_buf(),
                line: row.line,
                label: raw.to_owned(),
                expected,
            })?;
        examples.push(Example {
            line: row.line,
            ..Example::single(row.get(text), Some(parsed))
        });
    }
    table.finish()?;
    Ok(Dataset {
        task,
        split,
        examples,
        source: Some(path.to_path_buf()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Label;

    #[test]
    fn reads_quoted_reviews() {
        let dir = tempfile::tempdir().unwrap();
        let csv =
            "review,sentiment\n\"Long, \"\"odd\"\"<br /><br />film.\",positive\nBad.,negative\n";
        std::fs::write(dir.path().join("train.csv"), csv).unwrap();
        let d = read_imdb(dir.path(), Split::Train).unwrap();
        assert_eq!(d.examples[0].text, "Long, \"odd\"<br /><br />film.");
        assert_eq!(d.examples[1].label, Some(Label::Class(0)));
        assert!(matches!(
            read_imdb(dir.path(), Split::Test),
            Err(DataError::NoSuchSplit { .. })
        ));
    }
}
