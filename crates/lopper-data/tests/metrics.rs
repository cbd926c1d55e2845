//! Metrics against values computed once by scikit-learn 1.9.1 and SciPy 1.17.1
//! (`tests/metrics_reference.py`, whose inputs are the constants below).

use lopper_data::metrics::{
    accuracy, average_ranks, f1_binary, matthews_corrcoef, pearson, spearman,
};
use lopper_data::{Label, Metric, Predictions, Task, evaluate};

// Inputs (identical to metrics_reference.py).
const BIN_PRED: [usize; 20] = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1];
const BIN_GOLD: [usize; 20] = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1];
const MULTI_PRED: [usize; 15] = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 1, 2, 2];
const MULTI_GOLD: [usize; 15] = [0, 1, 2, 1, 1, 0, 2, 2, 1, 0, 2, 0, 1, 1, 2];
const CONST_PRED: [usize; 6] = [1, 1, 1, 1, 1, 1];
const CONST_GOLD: [usize; 6] = [1, 0, 1, 0, 0, 1];
const NO_POS_PRED: [usize; 4] = [0, 0, 0, 0];
const NO_POS_GOLD: [usize; 4] = [0, 1, 0, 1];
const X: [f64; 12] = [
    0.5, 2.25, 3.0, 3.0, 1.75, 4.5, 0.0, 2.25, 5.0, 3.0, 1.0, 4.0,
];
const Y: [f64; 12] = [1.0, 2.0, 2.8, 3.6, 1.2, 4.9, 0.4, 1.8, 4.4, 3.0, 1.0, 3.9];
const CONST_X: [f64; 4] = [2.0, 2.0, 2.0, 2.0];
const CONST_Y: [f64; 4] = [1.0, 2.0, 3.0, 4.0];

// Output of metrics_reference.py (numpy 2.3.4, scipy 1.17.1, scikit-learn 1.9.1).
const BIN_ACCURACY: f64 = 0.7;
const BIN_F1: f64 = 0.7272727272727273;
const BIN_MCC: f64 = 0.3939393939393939;
const MULTI_ACCURACY: f64 = 0.7333333333333333;
const MULTI_MCC: f64 = 0.6013513513513513;
const CONST_MCC: f64 = 0.0;
const NO_POS_F1: f64 = 0.0;
const CONST_PEARSON: f64 = f64::NAN;
const CONST_SPEARMAN: f64 = f64::NAN;
const PEARSON: f64 = 0.9633634075513187;
const SPEARMAN: f64 = 0.9823566874090955;

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

#[test]
fn classification_metrics_match_sklearn() {
    assert_close!(accuracy(&BIN_PRED, &BIN_GOLD).unwrap(), BIN_ACCURACY);
    assert_close!(f1_binary(&BIN_PRED, &BIN_GOLD).unwrap(), BIN_F1);
    assert_close!(matthews_corrcoef(&BIN_PRED, &BIN_GOLD).unwrap(), BIN_MCC);
    assert_close!(accuracy(&MULTI_PRED, &MULTI_GOLD).unwrap(), MULTI_ACCURACY);
    assert_close!(
        matthews_corrcoef(&MULTI_PRED, &MULTI_GOLD).unwrap(),
        MULTI_MCC
    );
}

#[test]
fn degenerate_cases_match_sklearn_and_scipy() {
    // Constant predictions: sklearn's MCC is 0.
    assert_close!(
        matthews_corrcoef(&CONST_PRED, &CONST_GOLD).unwrap(),
        CONST_MCC
    );
    // No predicted and no true positive among the predictions: sklearn's F1 is 0.
    assert_close!(f1_binary(&NO_POS_PRED, &NO_POS_GOLD).unwrap(), NO_POS_F1);
    // A constant input: SciPy's correlations are NaN.
    assert_close!(pearson(&CONST_X, &CONST_Y).unwrap(), CONST_PEARSON);
    assert_close!(spearman(&CONST_X, &CONST_Y).unwrap(), CONST_SPEARMAN);
}

#[test]
fn correlations_match_scipy() {
    assert_close!(pearson(&X, &Y).unwrap(), PEARSON);
    // X has ties (2.25 twice, 3.0 three times): average ranks.
    assert_close!(spearman(&X, &Y).unwrap(), SPEARMAN);
    let ranks = average_ranks(&X);
    assert_eq!(ranks[2], 8.0);
    assert_eq!(ranks[1], 5.5);
}

#[test]
fn evaluate_uses_the_task_default_and_reports_companions() {
    let mrpc = Task::classification("mrpc", &["0", "1"], Metric::F1);
    let gold: Vec<Label> = BIN_GOLD.iter().map(|&c| Label::Class(c)).collect();
    let e = evaluate(&mrpc, &Predictions::Classes(BIN_PRED.to_vec()), &gold).unwrap();
    assert_eq!(e.metric, Metric::F1);
    assert_close!(e.score, BIN_F1);
    assert_close!(e.get(Metric::Accuracy).unwrap(), BIN_ACCURACY);
    assert_close!(e.get(Metric::Matthews).unwrap(), BIN_MCC);
    assert_close!(e.error(), 1.0 - BIN_F1);

    let stsb = Task::regression("stsb", Metric::Spearman);
    let gold: Vec<Label> = Y.iter().map(|&s| Label::Score(s)).collect();
    let e = evaluate(&stsb, &Predictions::Scores(X.to_vec()), &gold).unwrap();
    assert_close!(e.score, SPEARMAN);
    assert_close!(e.get(Metric::Pearson).unwrap(), PEARSON);
    assert_close!(
        e.get(Metric::PearsonSpearmanMean).unwrap(),
        (PEARSON + SPEARMAN) / 2.0
    );

    let mnli = Task::classification(
        "mnli",
        &["entailment", "neutral", "contradiction"],
        Metric::Accuracy,
    );
    let gold: Vec<Label> = MULTI_GOLD.iter().map(|&c| Label::Class(c)).collect();
    let e = evaluate(&mnli, &Predictions::Classes(MULTI_PRED.to_vec()), &gold).unwrap();
    assert_close!(e.score, MULTI_ACCURACY);
    assert_eq!(e.get(Metric::F1), None);
}

#[test]
fn mismatched_inputs_are_errors_not_panics() {
    let stsb = Task::regression("stsb", Metric::Spearman);
    let gold = [Label::Score(1.0), Label::Score(2.0)];
    assert!(evaluate(&stsb, &Predictions::Classes(vec![0, 1]), &gold).is_err());
    assert!(evaluate(&stsb, &Predictions::Scores(vec![0.5]), &gold).is_err());
    let cola = Task::classification("cola", &["0", "1"], Metric::Matthews);
    assert!(evaluate(&cola, &Predictions::Classes(vec![0, 1]), &gold).is_err());
    assert!(matthews_corrcoef(&[usize::MAX], &[0]).is_ok());
}
