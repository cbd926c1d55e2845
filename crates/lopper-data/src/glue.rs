//! The GLUE tasks, read from the TSV files of the original GLUE download script.
//!
//! One folder per task (`CoLA`, `SST-2`, `MRPC`, `STS-B`, `QQP`, `MNLI`, `QNLI`, `RTE`,
//! `WNLI`) holding `train.tsv`, `dev.tsv` and `test.tsv`; MNLI has `dev_matched.tsv`,
//! `dev_mismatched.tsv`, `test_matched.tsv` and `test_mismatched.tsv` instead, and is two
//! tasks here: [`GlueTask::Mnli`] (matched) and [`GlueTask::MnliMismatched`], sharing
//! `train.tsv`. Columns are found by header name, except for CoLA's headerless train and dev
//! files (source, label, original mark, sentence). Test files have no label column; their
//! examples are unlabelled. Labels are `0`/`1` (CoLA, SST-2, MRPC, QQP, WNLI),
//! `entailment`/`not_entailment` (QNLI, RTE), `entailment`/`neutral`/`contradiction` (MNLI,
//! in that class order, as in the Hugging Face `glue` dataset) or a float (STS-B).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::metrics::Metric;
use crate::table::{Delimited, Table};
use crate::{DataError, Dataset, Example, Result, Split, Task};

/// A GLUE task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlueTask {
    /// Corpus of Linguistic Acceptability (single sentence, Matthews correlation).
    Cola,
    /// Stanford Sentiment Treebank, binary (single sentence).
    Sst2,
    /// Microsoft Research Paraphrase Corpus (pair, F1).
    Mrpc,
    /// Semantic Textual Similarity Benchmark (pair, regression, Spearman).
    Stsb,
    /// Quora Question Pairs (pair, F1).
    Qqp,
    /// Multi-Genre NLI, matched dev/test files.
    Mnli,
    /// Multi-Genre NLI, mismatched dev/test files.
    MnliMismatched,
    /// Question NLI (pair).
    Qnli,
    /// Recognising Textual Entailment (pair).
    Rte,
    /// Winograd NLI (pair).
    Wnli,
}

/// Where a task's columns are.
enum Col {
    /// By header name.
    Name(&'static str),
    /// By position (headerless files).
    At(usize),
}

struct Layout {
    header: bool,
    width: Option<usize>,
    text: Col,
    pair: Option<Col>,
    label: Option<Col>,
}

impl GlueTask {
    /// Every GLUE task, MNLI twice (matched and mismatched).
    pub const ALL: [GlueTask; 10] = [
        GlueTask::Cola,
        GlueTask::Sst2,
        GlueTask::Mrpc,
        GlueTask::Stsb,
        GlueTask::Qqp,
        GlueTask::Mnli,
        GlueTask::MnliMismatched,
        GlueTask::Qnli,
        GlueTask::Rte,
        GlueTask::Wnli,
    ];

    /// The short name: `cola`, `sst2`, `mrpc`, `stsb`, `qqp`, `mnli`, `mnli-mm`, `qnli`,
    /// `rte`, `wnli`.
    pub fn name(self) -> &'static str {
        match self {
            GlueTask::Cola => "cola",
            GlueTask::Sst2 => "sst2",
            GlueTask::Mrpc => "mrpc",
            GlueTask::Stsb => "stsb",
            GlueTask::Qqp => "qqp",
            GlueTask::Mnli => "mnli",
            GlueTask::MnliMismatched => "mnli-mm",
            GlueTask::Qnli => "qnli",
            GlueTask::Rte => "rte",
            GlueTask::Wnli => "wnli",
        }
    }

    /// The task's folder in the GLUE download: `CoLA`, `SST-2`, `MRPC`, `STS-B`, `QQP`,
    /// `MNLI`, `QNLI`, `RTE`, `WNLI`.
    pub fn dir_name(self) -> &'static str {
        match self {
            GlueTask::Cola => "CoLA",
            GlueTask::Sst2 => "SST-2",
            GlueTask::Mrpc => "MRPC",
            GlueTask::Stsb => "STS-B",
            GlueTask::Qqp => "QQP",
            GlueTask::Mnli | GlueTask::MnliMismatched => "MNLI",
            GlueTask::Qnli => "QNLI",
            GlueTask::Rte => "RTE",
            GlueTask::Wnli => "WNLI",
        }
    }

    /// The file of `split` in the task's folder.
    pub fn file_name(self, split: Split) -> &'static str {
        match (self, split) {
            (_, Split::Train) => "train.tsv",
            (GlueTask::Mnli, Split::Dev) => "dev_matched.tsv",
            (GlueTask::Mnli, Split::Test) => "test_matched.tsv",
            (GlueTask::MnliMismatched, Split::Dev) => "dev_mismatched.tsv",
            (GlueTask::MnliMismatched, Split::Test) => "test_mismatched.tsv",
            (_, Split::Dev) => "dev.tsv",
            (_, Split::Test) => "test.tsv",
        }
    }

    /// The task: labels, default metric, and whether it is large (SST-2, QQP, QNLI, MNLI).
    pub fn task(self) -> Task {
        let nli = ["entailment", "not_entailment"];
        let binary = ["0", "1"];
        let task = match self {
            GlueTask::Cola => Task::classification(self.name(), &binary, Metric::Matthews),
            GlueTask::Sst2 | GlueTask::Wnli => {
                Task::classification(self.name(), &binary, Metric::Accuracy)
            }
            GlueTask::Mrpc | GlueTask::Qqp => {
                Task::classification(self.name(), &binary, Metric::F1)
            }
            GlueTask::Stsb => Task::regression(self.name(), Metric::Spearman),
            GlueTask::Mnli | GlueTask::MnliMismatched => Task::classification(
                self.name(),
                &["entailment", "neutral", "contradiction"],
                Metric::Accuracy,
            ),
            GlueTask::Qnli | GlueTask::Rte => {
                Task::classification(self.name(), &nli, Metric::Accuracy)
            }
        };
        let large = matches!(
            self,
            GlueTask::Sst2
                | GlueTask::Qqp
                | GlueTask::Qnli
                | GlueTask::Mnli
                | GlueTask::MnliMismatched
        );
        task.with_large(large)
    }

    /// The path of `split` under the GLUE folder `glue_dir` (`<glue_dir>/<dir_name>/<file>`).
    pub fn path(self, glue_dir: &Path, split: Split) -> PathBuf {
        glue_dir.join(self.dir_name()).join(self.file_name(split))
    }

    /// Reads `split` from the GLUE folder `glue_dir`.
    pub fn read(self, glue_dir: &Path, split: Split) -> Result<Dataset> {
        self.read_file(&self.path(glue_dir, split), split)
    }

    /// Reads the file `path` in the layout of this task's `split`.
    pub fn read_file(self, path: &Path, split: Split) -> Result<Dataset> {
        let layout = self.layout(split);
        let task = self.task();
        let mut table = Table::open(path, Delimited::Tsv, layout.header, layout.width)?;
        let resolve = |col: &Col| -> Result<usize> {
            match col {
                Col::Name(name) => table.column(name),
                Col::At(i) => Ok(*i),
            }
        };
        let text = resolve(&layout.text)?;
        let pair = layout.pair.as_ref().map(resolve).transpose()?;
        let label = match (&layout.label, split) {
            // Test files carry no label; read one only if the file happens to have it.
            (Some(Col::Name(name)), Split::Test) => table.find(name),
            (Some(col), _) => Some(resolve(col)?),
            (None, _) => None,
        };
        let mut examples = Vec::new();
        while let Some(row) = table.next_row()? {
            let label = match label {
                Some(i) => {
                    let raw = row.get(i);
                    Some(
                        task.parse_label(raw)
                            .map_err(|expected| DataError::UnknownLabel {
                                path: table.path().to_path_buf(),
                                line: row.line,
                                label: raw.to_owned(),
                                expected,
                            })?,
                    )
                }
                None => None,
            };
            examples.push(Example {
                text: row.get(text).to_owned(),
                pair: pair.map(|i| row.get(i).to_owned()),
                choices: Vec::new(),
                label,
                line: row.line,
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

    fn layout(self, split: Split) -> Layout {
        let named = |text, pair: Option<&'static str>, label| Layout {
            header: true,
            width: None,
            text: Col::Name(text),
            pair: pair.map(Col::Name),
            label: Some(Col::Name(label)),
        };
        match self {
            // CoLA train/dev: no header; source, label, original mark, sentence.
            GlueTask::Cola if split != Split::Test => Layout {
                header: false,
                width: Some(4),
                text: Col::At(3),
                pair: None,
                label: Some(Col::At(1)),
            },
            GlueTask::Cola | GlueTask::Sst2 => named("sentence", None, "label"),
            GlueTask::Mrpc => named("#1 String", Some("#2 String"), "Quality"),
            GlueTask::Stsb => named("sentence1", Some("sentence2"), "score"),
            GlueTask::Qqp => named("question1", Some("question2"), "is_duplicate"),
            GlueTask::Mnli | GlueTask::MnliMismatched => {
                named("sentence1", Some("sentence2"), "gold_label")
            }
            GlueTask::Qnli => named("question", Some("sentence"), "label"),
            GlueTask::Rte | GlueTask::Wnli => named("sentence1", Some("sentence2"), "label"),
        }
    }
}

impl fmt::Display for GlueTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for GlueTask {
    type Err = DataError;

    /// Accepts the short name or the folder name, in any case (`sst2`, `SST-2`, `sts-b`,
    /// `mnli_mismatched`, …).
    fn from_str(s: &str) -> Result<Self> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let task = match key.as_str() {
            "cola" => GlueTask::Cola,
            "sst2" => GlueTask::Sst2,
            "mrpc" => GlueTask::Mrpc,
            "stsb" => GlueTask::Stsb,
            "qqp" => GlueTask::Qqp,
            "mnli" | "mnlim" | "mnlimatched" => GlueTask::Mnli,
            "mnlimm" | "mnlimismatched" => GlueTask::MnliMismatched,
            "qnli" => GlueTask::Qnli,
            "rte" => GlueTask::Rte,
            "wnli" => GlueTask::Wnli,
            _ => {
                return Err(DataError::Invalid(format!(
                    "unknown GLUE task `{s}`: expected one of cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli"
                )));
            }
        };
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_files_follow_the_download_script() {
        for t in GlueTask::ALL {
            assert_eq!(t.name().parse::<GlueTask>().unwrap(), t);
            assert_eq!(t.task().name, t.name());
        }
        assert_eq!("SST-2".parse::<GlueTask>().unwrap(), GlueTask::Sst2);
        assert_eq!("STS-B".parse::<GlueTask>().unwrap(), GlueTask::Stsb);
        assert!("squad".parse::<GlueTask>().is_err());
        assert_eq!(
            GlueTask::MnliMismatched.file_name(Split::Dev),
            "dev_mismatched.tsv"
        );
        assert_eq!(GlueTask::Mnli.file_name(Split::Train), "train.tsv");
        assert_eq!(
            GlueTask::Stsb.path(Path::new("g"), Split::Test),
            Path::new("g/STS-B/test.tsv")
        );
        assert_eq!(GlueTask::Cola.task().metric, Metric::Matthews);
        assert_eq!(GlueTask::Qqp.task().metric, Metric::F1);
        assert!(GlueTask::Qnli.task().large && !GlueTask::Rte.task().large);
    }
}
