//! Tasks, splits, examples and datasets: the vocabulary every reader produces.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::metrics::Metric;

/// What a task predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskKind {
    /// One class out of `labels`; a label's class index is its position in the list.
    Classification {
        /// The label strings as written in the files, in class-index order.
        labels: Vec<String>,
    },
    /// A real-valued score (STS-B).
    Regression,
    /// The index of the right one of `choices` endings (SWAG).
    MultipleChoice {
        /// The number of endings of every example.
        choices: usize,
    },
}

/// A task: its name, what it predicts and how it is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The short name, e.g. `rte`, `mnli-mm`, `imdb`.
    pub name: String,
    /// Classification, regression or multiple choice.
    pub kind: TaskKind,
    /// The default metric (see [`Metric`]).
    pub metric: Metric,
    /// A large task: under the paper's protocol its validation set is capped
    /// (SST-2, QQP, QNLI, MNLI and SWAG, as in Klein et al.'s code).
    pub large: bool,
}

impl Task {
    /// A classification task scored by `metric`.
    pub fn classification(name: &str, labels: &[&str], metric: Metric) -> Self {
        Self {
            name: name.into(),
            kind: TaskKind::Classification {
                labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            },
            metric,
            large: false,
        }
    }

    /// A regression task scored by `metric`.
    pub fn regression(name: &str, metric: Metric) -> Self {
        Self {
            name: name.into(),
            kind: TaskKind::Regression,
            metric,
            large: false,
        }
    }

    /// A multiple-choice task with `choices` endings, scored by accuracy.
    pub fn multiple_choice(name: &str, choices: usize) -> Self {
        Self {
            name: name.into(),
            kind: TaskKind::MultipleChoice { choices },
            metric: Metric::Accuracy,
            large: false,
        }
    }

    /// The same task, marked large (or not).
    pub fn with_large(mut self, large: bool) -> Self {
        self.large = large;
        self
    }

    /// The number of outputs of the model's head: classes, 1 for regression, 1 score per
    /// choice for multiple choice.
    pub fn num_outputs(&self) -> usize {
        match &self.kind {
            TaskKind::Classification { labels } => labels.len(),
            TaskKind::Regression | TaskKind::MultipleChoice { .. } => 1,
        }
    }

    /// Parses a label as written in a file. The error says what was expected.
    pub fn parse_label(&self, raw: &str) -> std::result::Result<Label, String> {
        let raw = raw.trim();
        match &self.kind {
            TaskKind::Classification { labels } => labels
                .iter()
                .position(|l| l == raw)
                .map(Label::Class)
                .ok_or_else(|| format!("one of {}", labels.join(", "))),
            TaskKind::Regression => raw
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Label::Score)
                .ok_or_else(|| "a finite number".to_owned()),
            TaskKind::MultipleChoice { choices } => raw
                .parse::<usize>()
                .ok()
                .filter(|c| c < choices)
                .map(Label::Class)
                .ok_or_else(|| format!("a choice index 0..{}", choices.saturating_sub(1))),
        }
    }
}

/// An official split of a task's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Split {
    /// The official training split.
    Train,
    /// The official development (validation) split; labelled.
    Dev,
    /// The official test split; unlabelled for GLUE.
    Test,
}

impl Split {
    /// `train`, `dev` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A gold label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Label {
    /// A class index (classification) or the index of the right choice (multiple choice).
    Class(usize),
    /// A real-valued score (regression).
    Score(f64),
}

/// One example: a text, a text pair, or a context with candidate endings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The (first) text; the context of a multiple-choice example.
    pub text: String,
    /// The second text of a pair task.
    pub pair: Option<String>,
    /// The candidate second segments of a multiple-choice example (empty otherwise).
    pub choices: Vec<String>,
    /// The gold label; `None` in unlabelled (test) files.
    pub label: Option<Label>,
    /// The 1-based line of the example's row in its file (0 when not read from a file).
    pub line: u64,
}

impl Example {
    /// A single-text example.
    pub fn single(text: impl Into<String>, label: Option<Label>) -> Self {
        Self {
            text: text.into(),
            pair: None,
            choices: Vec::new(),
            label,
            line: 0,
        }
    }

    /// A text-pair example.
    pub fn pair(text: impl Into<String>, pair: impl Into<String>, label: Option<Label>) -> Self {
        Self {
            pair: Some(pair.into()),
            ..Self::single(text, label)
        }
    }

    /// A multiple-choice example: a context and its candidate endings.
    pub fn multiple_choice(
        context: impl Into<String>,
        choices: Vec<String>,
        label: Option<Label>,
    ) -> Self {
        Self {
            choices,
            ..Self::single(context, label)
        }
    }
}

/// The examples of one split of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// The task.
    pub task: Task,
    /// Which official split the examples come from.
    pub split: Split,
    /// The examples, in file order (or in the order a protocol gave them).
    pub examples: Vec<Example>,
    /// The file they were read from, if any.
    pub source: Option<PathBuf>,
}

impl Dataset {
    /// A dataset of `examples` not read from a file.
    pub fn new(task: Task, split: Split, examples: Vec<Example>) -> Self {
        Self {
            task,
            split,
            examples,
            source: None,
        }
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there is no example.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The gold labels in example order, or `None` when some example is unlabelled.
    pub fn labels(&self) -> Option<Vec<Label>> {
        self.examples.iter().map(|e| e.label).collect()
    }

    /// A dataset of the examples at `indices` (in that order); indices out of range are
    /// skipped.
    pub fn subset(&self, indices: &[usize]) -> Self {
        Self {
            task: self.task.clone(),
            split: self.split,
            examples: indices
                .iter()
                .filter_map(|&i| self.examples.get(i).cloned())
                .collect(),
            source: self.source.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_by_kind() {
        let t = Task::classification("rte", &["entailment", "not_entailment"], Metric::Accuracy);
        assert_eq!(t.parse_label("not_entailment"), Ok(Label::Class(1)));
        assert_eq!(t.parse_label(" entailment\r"), Ok(Label::Class(0)));
        assert_eq!(
            t.parse_label("neutral"),
            Err("one of entailment, not_entailment".to_owned())
        );
        let r = Task::regression("stsb", Metric::Spearman);
        assert_eq!(r.parse_label("3.800"), Ok(Label::Score(3.8)));
        assert!(r.parse_label("NaN").is_err());
        let m = Task::multiple_choice("swag", 4);
        assert_eq!(m.parse_label("3"), Ok(Label::Class(3)));
        assert_eq!(m.parse_label("4"), Err("a choice index 0..3".to_owned()));
        assert_eq!(
            (t.num_outputs(), r.num_outputs(), m.num_outputs()),
            (2, 1, 1)
        );
    }

    #[test]
    fn subsets_and_labels() {
        let t = Task::classification("sst2", &["0", "1"], Metric::Accuracy);
        let d = Dataset::new(
            t,
            Split::Train,
            vec![
                Example::single("a", Some(Label::Class(0))),
                Example::single("b", Some(Label::Class(1))),
            ],
        );
        let s = d.subset(&[1, 5, 0]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.labels(), Some(vec![Label::Class(1), Label::Class(0)]));
        let unlabelled = Dataset::new(
            d.task.clone(),
            Split::Test,
            vec![Example::single("c", None)],
        );
        assert_eq!(unlabelled.labels(), None);
    }
}
