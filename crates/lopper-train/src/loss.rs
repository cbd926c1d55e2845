//! Losses: the task's (cross-entropy, or mean squared error for regression) and in-place
//! distillation's.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Int, Tensor};

/// What a batch should predict.
#[derive(Debug, Clone)]
pub enum Targets {
    /// Class indices `[batch]` (for multiple choice: the index of the right choice).
    Classes(Tensor<1, Int>),
    /// Regression targets `[batch]`.
    Scores(Tensor<1>),
}

/// The task loss of `logits` (`[batch, classes]`, or `[batch, 1]` for regression): mean
/// cross-entropy, or mean squared error.
pub fn task_loss(logits: Tensor<2>, targets: &Targets) -> Tensor<1> {
    match targets {
        Targets::Classes(y) => {
            let [b, _] = logits.dims();
            let picked = log_softmax(logits, 1).gather(1, y.clone().reshape([b, 1]));
            picked.mean().neg()
        }
        Targets::Scores(y) => {
            let [b, _] = logits.dims();
            (logits.reshape([b]) - y.clone()).powi_scalar(2).mean()
        }
    }
}

/// In-place distillation (Yu & Huang, "Universally Slimmable Networks", 2019) from the detached
/// `teacher` logits: for classification `T²·CE(softmax(z_t/T), z_s/T) + CE(y, z_s)`, for
/// regression `MSE(z_s, z_t) + MSE(z_s, y)`. The teacher must already be detached; it receives
/// no gradient either way.
pub fn distillation_loss(
    student: Tensor<2>,
    teacher: Tensor<2>,
    targets: &Targets,
    temperature: f64,
) -> Tensor<1> {
    let label = task_loss(student.clone(), targets);
    match targets {
        Targets::Classes(_) => {
            let t = temperature;
            let soft_teacher = softmax(teacher / t, 1);
            let log_student = log_softmax(student / t, 1);
            let ce = (soft_teacher * log_student).sum_dim(1).mean().neg();
            ce * (t * t) + label
        }
        Targets::Scores(_) => (student - teacher).powi_scalar(2).mean() + label,
    }
}
