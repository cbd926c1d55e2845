//! SWAG (Situations With Adversarial Generations), multiple choice, regular layout.
//!
//! The `regular` files of the SWAG distribution: `train.csv`, `val.csv` and `test.csv`, CSV
//! with a header (`,video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,…,ending3,
//! label`; the first column is an unnamed index). Columns are found by name; `label` is the
//! index of the right ending and is absent from `test.csv`.
//!
//! Each example's context is `sent1` and its choices are `"{sent2} {ending_i}"`, so that the
//! model sees the pair (`sent1`, `sent2 ending_i`) for each ending, as in Hugging Face's
//! multiple-choice example and Klein et al.'s code. [`Split::Dev`] reads `val.csv`.

use std::path::{Path, PathBuf};

use crate::table::{Delimited, Table};
use crate::{DataError, Dataset, Example, Result, Split, Task};

/// The number of endings of a SWAG example.
pub const SWAG_CHOICES: usize = 4;

/// The SWAG task: 4 choices, accuracy; large (its validation set is capped by the paper's
/// protocol).
pub fn swag_task() -> Task {
    Task::multiple_choice("swag", SWAG_CHOICES).with_large(true)
}

/// The file of `split` in a SWAG folder: `train.csv`, `val.csv` or `test.csv`.
pub fn swag_path(dir: &Path, split: Split) -> PathBuf {
    dir.join(match split {
        Split::Train => "train.csv",
        Split::Dev => "val.csv",
        Split::Test => "test.csv",
    })
}

/// Reads `split` from the SWAG folder `dir`.
pub fn read_swag(dir: &Path, split: Split) -> Result<Dataset> {
    read_swag_file(&swag_path(dir, split), split)
}

/// Reads one SWAG CSV file, recording it as `split`. The `label` column is required except
/// for [`Split::Test`].
pub fn read_swag_file(path: &Path, split: Split) -> Result<Dataset> {
    let task = swag_task();
    let mut table = Table::open(path, Delimited::Csv, true, None)?;
    let sent1 = table.column("sent1")?;
    let sent2 = table.column("sent2")?;
    let endings = (0..SWAG_CHOICES)
        .map(|i| table.column(&format!("ending{i}")))
        .collect::<Result<Vec<_>>>()?;
    let label = match split {
        Split::Test => table.find("label"),
        _ => Some(table.column("label")?),
    };
    let mut examples = Vec::new();
    while let Some(row) = table.next_row()? {
        let gold = match label {
            Some(i) => {
                let raw = row.get(i);
                Some(
                    task.parse_label(raw)
                        .map_err(|expected| DataError::UnknownLabel {
                            path: path.to_path_buf(),
                            line: row.line,
                            label: raw.to_owned(),
                            expected,
                        })?,
                )
            }
            None => None,
        };
        let header = row.get(sent2);
        let choices = endings
            .iter()
            .map(|&e| format!("{header} {}", row.get(e)))
            .collect();
        examples.push(Example {
            line: row.line,
            ..Example::multiple_choice(row.get(sent1), choices, gold)
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
    fn endings_follow_sent2() {
        let dir = tempfile::tempdir().unwrap();
        let csv = ",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\n\
                   0,v,1,\"A man waves. He\",A man waves.,He,gold,smiles.,sleeps.,\"runs, fast.\",sits.,2\n";
        std::fs::write(dir.path().join("val.csv"), csv).unwrap();
        let d = read_swag(dir.path(), Split::Dev).unwrap();
        let e = &d.examples[0];
        assert_eq!(e.text, "A man waves.");
        assert_eq!(e.choices[2], "He runs, fast.");
        assert_eq!(e.label, Some(Label::Class(2)));
    }
}
