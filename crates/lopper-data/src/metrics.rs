//! Metrics, computed as scikit-learn and SciPy compute them.
//!
//! - [`accuracy`]: the share of exact matches (`sklearn.metrics.accuracy_score`).
//! - [`f1_binary`]: F1 of class 1 (`f1_score(average="binary")`); 0 when there is no true
//!   and no predicted positive (sklearn's `zero_division` default).
//! - [`matthews_corrcoef`]: the multi-class Matthews correlation (`matthews_corrcoef`);
//!   0 when the predictions (or the labels) are constant, as sklearn returns.
//! - [`pearson`] and [`spearman`] (`scipy.stats.pearsonr`, `spearmanr`; Spearman is Pearson
//!   of average ranks, ties sharing their mean rank): NaN when either input is constant,
//!   as SciPy returns (with a warning).
//!
//! Each task has a default [`Metric`], following GLUE's conventions: Matthews correlation for
//! CoLA, F1 for MRPC and QQP (accuracy reported alongside), **Spearman** for STS-B (as Klein
//! et al. and Syne Tune's `GLUE_TASK_INFO` use; Pearson and the mean of both are reported
//! alongside), accuracy otherwise. [`evaluate`] computes the default and its companions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{DataError, Label, Result, Task, TaskKind};

/// A metric; higher is better for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Share of correct predictions.
    Accuracy,
    /// Binary F1 with class 1 positive.
    F1,
    /// Matthews correlation coefficient.
    Matthews,
    /// Pearson correlation.
    Pearson,
    /// Spearman rank correlation.
    Spearman,
    /// The mean of Pearson and Spearman (Hugging Face's `combined_score`).
    PearsonSpearmanMean,
}

impl Metric {
    /// The metric's name as Hugging Face `evaluate` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::F1 => "f1",
            Metric::Matthews => "matthews_correlation",
            Metric::Pearson => "pearson",
            Metric::Spearman => "spearmanr",
            Metric::PearsonSpearmanMean => "combined_score",
        }
    }
}

/// A model's predictions over a dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// Class indices (classification) or chosen endings (multiple choice).
    Classes(Vec<usize>),
    /// Scores (regression).
    Scores(Vec<f64>),
}

/// The scores of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The task's default metric.
    pub metric: Metric,
    /// Its value.
    pub score: f64,
    /// Every metric computed (the default included).
    pub values: Vec<(Metric, f64)>,
}

impl Evaluation {
    /// `1 - score`: the error the search minimises.
    pub fn error(&self) -> f64 {
        1.0 - self.score
    }

    /// Every metric computed, by name (as the run records write them).
    pub fn named_values(&self) -> Vec<(String, f64)> {
        self.values
            .iter()
            .map(|(m, v)| (m.name().to_string(), *v))
            .collect()
    }

    /// The value of `metric`, if it was computed.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.values
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, v)| *v)
    }
}

/// Scores `predictions` against `labels` with `task`'s default metric and its companions:
/// accuracy (and, for two classes, F1 and Matthews) for classification, Pearson, Spearman
/// and their mean for regression, accuracy for multiple choice.
pub fn evaluate(task: &Task, predictions: &Predictions, labels: &[Label]) -> Result<Evaluation> {
    let mut values = Vec::new();
    match (&task.kind, predictions) {
        (
            TaskKind::Classification { .. } | TaskKind::MultipleChoice { .. },
            Predictions::Classes(p),
        ) => {
            let gold = classes(labels, task.metric)?;
            values.push((Metric::Accuracy, accuracy(p, &gold)?));
            let binary =
                matches!(&task.kind, TaskKind::Classification { labels } if labels.len() == 2);
            if binary {
                values.push((Metric::F1, f1_binary(p, &gold)?));
            }
            if binary || task.metric == Metric::Matthews {
                values.push((Metric::Matthews, matthews_corrcoef(p, &gold)?));
            }
        }
        (TaskKind::Regression, Predictions::Scores(p)) => {
            let gold = scores(labels, task.metric)?;
            let (r, rho) = (pearson(p, &gold)?, spearman(p, &gold)?);
            values.push((Metric::Pearson, r));
            values.push((Metric::Spearman, rho));
            values.push((Metric::PearsonSpearmanMean, (r + rho) / 2.0));
        }
        _ => {
            return Err(DataError::Metric {
                metric: task.metric.name(),
                message: format!("predictions of the wrong kind for task {}", task.name),
            });
        }
    }
    let score = values
        .iter()
        .find(|(m, _)| *m == task.metric)
        .map(|(_, v)| *v)
        .ok_or_else(|| DataError::Metric {
            metric: task.metric.name(),
            message: format!("not defined for task {}", task.name),
        })?;
    Ok(Evaluation {
        metric: task.metric,
        score,
        values,
    })
}

fn classes(labels: &[Label], metric: Metric) -> Result<Vec<usize>> {
    labels
        .iter()
        .map(|l| match l {
            Label::Class(c) => Ok(*c),
            Label::Score(_) => Err(mismatch(metric.name(), "a score label among class labels")),
        })
        .collect()
}

fn scores(labels: &[Label], metric: Metric) -> Result<Vec<f64>> {
    labels
        .iter()
        .map(|l| match l {
            Label::Score(s) => Ok(*s),
            Label::Class(_) => Err(mismatch(metric.name(), "a class label among score labels")),
        })
        .collect()
}

fn mismatch(metric: &'static str, message: &str) -> DataError {
    DataError::Metric {
        metric,
        message: message.to_owned(),
    }
}

fn check(metric: &'static str, a: usize, b: usize, min: usize) -> Result<()> {
    if a != b {
        return Err(mismatch(metric, &format!("{a} predictions for {b} labels")));
    }
    if a < min {
        return Err(mismatch(
            metric,
            &format!("needs at least {min} examples, got {a}"),
        ));
    }
    Ok(())
}

/// The share of predictions equal to their label.
pub fn accuracy(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    check("accuracy", predictions.len(), labels.len(), 1)?;
    let hits = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    Ok(hits as f64 / labels.len() as f64)
}

/// F1 of class 1 against class 0; other classes are an error.
pub fn f1_binary(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    check("f1", predictions.len(), labels.len(), 1)?;
    if predictions.iter().chain(labels).any(|&c| c > 1) {
        return Err(mismatch("f1", "binary F1 needs classes 0 and 1 only"));
    }
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (&p, &l) in predictions.iter().zip(labels) {
        match (p, l) {
            (1, 1) => tp += 1,
            (1, _) => fp += 1,
            (_, 1) => fn_ += 1,
            _ => {}
        }
    }
    let denominator = 2 * tp + fp + fn_;
    Ok(if denominator == 0 {
        0.0
    } else {
        (2 * tp) as f64 / denominator as f64
    })
}

/// The Matthews correlation coefficient over any number of classes; 0 when either side is
/// constant.
pub fn matthews_corrcoef(predictions: &[usize], labels: &[usize]) -> Result<f64> {
    check("matthews_correlation", predictions.len(), labels.len(), 1)?;
    // Per-class counts of true labels and of predictions, over the classes present.
    let mut counts: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    let mut correct = 0f64;
    for (&p, &l) in predictions.iter().zip(labels) {
        counts.entry(l).or_default().0 += 1.0;
        counts.entry(p).or_default().1 += 1.0;
        if p == l {
            correct += 1.0;
        }
    }
    let t_sum: Vec<f64> = counts.values().map(|c| c.0).collect();
    let p_sum: Vec<f64> = counts.values().map(|c| c.1).collect();
    let n = labels.len() as f64;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let cov_ytyp = correct * n - dot(&t_sum, &p_sum);
    let cov_ypyp = n * n - dot(&p_sum, &p_sum);
    let cov_ytyt = n * n - dot(&t_sum, &t_sum);
    if cov_ypyp * cov_ytyt == 0.0 {
        return Ok(0.0);
    }
    Ok(cov_ytyp / (cov_ytyt * cov_ypyp).sqrt())
}

/// The Pearson correlation; NaN when either input is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64> {
    check("pearson", x.len(), y.len(), 2)?;
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(mismatch("pearson", "inputs must be finite"));
    }
    let constant = |v: &[f64]| v.iter().all(|&a| a == v[0]);
    if constant(x) || constant(y) {
        return Ok(f64::NAN);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(x), mean(y));
    let xm: Vec<f64> = x.iter().map(|a| a - mx).collect();
    let ym: Vec<f64> = y.iter().map(|a| a - my).collect();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let (nx, ny) = (norm(&xm), norm(&ym));
    let r: f64 = xm.iter().zip(&ym).map(|(a, b)| (a / nx) * (b / ny)).sum();
    Ok(r.clamp(-1.0, 1.0))
}

/// The Spearman rank correlation (Pearson of average ranks); NaN when either input is
/// constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64> {
    check("spearmanr", x.len(), y.len(), 2)?;
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(mismatch("spearmanr", "inputs must be finite"));
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

/// 1-based ranks, ties sharing the mean of their ranks (`scipy.stats.rankdata`'s `average`).
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end: their mean.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_values() {
        assert_eq!(accuracy(&[1, 0, 1, 1], &[1, 1, 1, 0]).unwrap(), 0.5);
        // tp 2, fp 1, fn 1: 4 / 6.
        assert!((f1_binary(&[1, 0, 1, 1], &[1, 1, 1, 0]).unwrap() - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(f1_binary(&[0, 0], &[0, 0]).unwrap(), 0.0);
        assert_eq!(
            matthews_corrcoef(&[1, 0, 1, 0], &[1, 0, 1, 0]).unwrap(),
            1.0
        );
        assert_eq!(
            matthews_corrcoef(&[1, 1, 1, 1], &[1, 0, 1, 0]).unwrap(),
            0.0
        );
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).unwrap().is_nan());
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 25.0]).unwrap() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(accuracy(&[1], &[1, 0]).is_err());
        assert!(accuracy(&[], &[]).is_err());
        assert!(f1_binary(&[2], &[1]).is_err());
        assert!(pearson(&[1.0], &[1.0]).is_err());
        assert!(pearson(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    }
}
