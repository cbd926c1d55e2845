//! Losses: the task's (cross-entropy, or mean squared error for regression) and in-place
//! distillation's.

use burn::tensor::activation::log_softmax;
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
/// `teacher` logits: for classification `T²·CE(softmax(z_t/T), z_s/T) + CE(y, z_s)`, computed as
/// `T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + CE(y, z_s)`, which differs from it only by the
/// teacher's entropy (no gradient: the teacher is detached), so that the logged loss is 0 when
/// the student matches the teacher instead of `T²·H(teacher)` (≈ 69 for two classes at T = 10); for
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
            let log_teacher = log_softmax(teacher / t, 1);
            let log_student = log_softmax(student / t, 1);
            let kl = (log_teacher.clone().exp() * (log_teacher - log_student))
                .sum_dim(1)
                .mean();
            kl * (t * t) + label
        }
        Targets::Scores(_) => (student - teacher).powi_scalar(2).mean() + label,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Int, Tensor, TensorData};

    use super::*;

    fn value(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    #[test]
    fn distillation_adds_nothing_when_the_student_matches_the_teacher() {
        let device = lopper_model::default_device();
        let z = Tensor::<2>::from_data(
            TensorData::new(vec![0.3f32, -1.2, 2.0, 0.1, 0.0, -0.5], [2, 3]),
            &device,
        );
        let y = Targets::Classes(Tensor::<1, Int>::from_data(
            TensorData::new(vec![2i64, 0], [2]),
            &device,
        ));
        let task = value(task_loss(z.clone(), &y));
        let same = value(distillation_loss(z.clone(), z.clone(), &y, 10.0));
        assert!((same - task).abs() < 1e-6, "{same} vs {task}");
        // A different teacher adds T²·KL > 0; by hand for row 1 of a 2-class case below.
        let other = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0, 0.0, 0.0], [2, 3]),
            &device,
        );
        assert!(value(distillation_loss(z, other, &y, 10.0)) > task);
        // Two classes, T = 1, one row: teacher (0, 0) → p_t = (½, ½); student (ln 3, 0) →
        // p_s = (¾, ¼): KL = ½ ln(⅔) + ½ ln 2 = ½ ln(4/3); label 0: CE = −ln ¾.
        let s = Tensor::<2>::from_data(TensorData::new(vec![3f32.ln(), 0.0], [1, 2]), &device);
        let t = Tensor::<2>::zeros([1, 2], &device);
        let y0 = Targets::Classes(Tensor::<1, Int>::from_data(
            TensorData::new(vec![0i64], [1]),
            &device,
        ));
        let expected = 0.5 * (4.0f32 / 3.0).ln() - 0.75f32.ln();
        let got = value(distillation_loss(s, t, &y0, 1.0));
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }
}
