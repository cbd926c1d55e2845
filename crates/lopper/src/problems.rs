//! Multi-objective test problems (`lopper-problems`: ZDT1–3, DTLZ2) and [`ProblemEvaluator`],
//! which scores one through the runner of `lopper-search`, for benchmarks, examples and the
//! command line.

pub use lopper_problems::{
    Dtlz2, KnownFront, PROBLEM_NAMES, Problem, ProblemError, Zdt, ZdtKind, problem_by_name,
};

use std::time::Duration;

use lopper_core::{Decision, Objective, Trial};
use lopper_search::{EvalContext, Evaluator, Measurement, Result};

/// Scores a test problem: instantly, or slowly (to watch or interrupt a search), and epoch by
/// epoch on the problem's synthetic fidelity when a multi-fidelity scheduler is in charge.
pub struct ProblemEvaluator {
    problem: Box<dyn Problem>,
    delay: Duration,
    fidelity: Option<u32>,
}

impl ProblemEvaluator {
    /// Scores `problem` at full fidelity, without delay.
    pub fn new(problem: Box<dyn Problem>) -> Self {
        Self {
            problem,
            delay: Duration::ZERO,
            fidelity: None,
        }
    }

    /// Sleeps `delay` in every evaluation.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Evaluates epoch by epoch up to `max_fidelity` (or the scheduler's), reporting each
    /// epoch's values ([`Problem::evaluate_at`]) and stopping when the scheduler says so.
    pub fn with_fidelity(mut self, max_fidelity: u32) -> Self {
        self.fidelity = Some(max_fidelity);
        self
    }

    /// The problem.
    pub fn problem(&self) -> &dyn Problem {
        self.problem.as_ref()
    }
}

impl Evaluator for ProblemEvaluator {
    fn objectives(&self) -> Vec<Objective> {
        (1..=self.problem.num_objectives())
            .map(|i| Objective::minimize(format!("f{i}"), ""))
            .collect()
    }

    fn evaluate(&self, trial: &Trial, ctx: &mut EvalContext<'_>) -> Result<Measurement> {
        std::thread::sleep(self.delay);
        let Some(default_max) = self.fidelity else {
            return Ok(Measurement::new(self.problem.evaluate(&trial.point)));
        };
        let max = ctx.max_fidelity(default_max);
        let mut values = Vec::new();
        for r in 1..=max {
            values = self
                .problem
                .evaluate_at(&trial.point, f64::from(r), f64::from(max));
            if ctx.report(r, &values)? == Decision::Stop {
                break;
            }
        }
        Ok(Measurement::new(values))
    }
}
