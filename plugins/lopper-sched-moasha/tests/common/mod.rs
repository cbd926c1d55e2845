//! The evaluator the MO-ASHA tests share.

use lopper_core::{Decision, Objective, Trial};
use lopper_search::{EvalContext, Evaluator, Measurement};
use lopper_testkit::Problem;

/// The fidelity of a completed trial when no scheduler says otherwise.
pub const MAX_FIDELITY: u32 = 27;

/// Runs a trial epoch by epoch on the problem's synthetic fidelity, up to the scheduler's
/// highest fidelity (or [`MAX_FIDELITY`] without one), stopping when told to.
pub struct Epochs(pub Box<dyn Problem>);

impl Evaluator for Epochs {
    fn objectives(&self) -> Vec<Objective> {
        vec![Objective::minimize("f1", ""), Objective::minimize("f2", "")]
    }

    fn evaluate(
        &self,
        trial: &Trial,
        ctx: &mut EvalContext<'_>,
    ) -> lopper_search::Result<Measurement> {
        let max = ctx.max_fidelity(MAX_FIDELITY);
        let mut values = Vec::new();
        for r in 1..=max {
            values = self
                .0
                .evaluate_at(&trial.point, f64::from(r), f64::from(max));
            if ctx.report(r, &values)? == Decision::Stop {
                break;
            }
        }
        Ok(Measurement::new(values))
    }
}
