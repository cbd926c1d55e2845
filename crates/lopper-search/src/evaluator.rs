//! What the runner calls to score a trial.

use std::sync::{Arc, Mutex};

use lopper_core::{Decision, Objective, Scheduler, Trial};

use crate::{Result, SearchError};

/// The result of evaluating one trial.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// One value per objective, in the objectives' own orientation (an accuracy stays an
    /// accuracy; the runner turns it into something to minimise for the optimizer).
    pub values: Vec<f64>,
    /// Anything worth keeping in the trial log (a sub-network summary, timings, …).
    pub info: serde_json::Value,
}

impl Measurement {
    /// Values without extra information.
    pub fn new(values: Vec<f64>) -> Self {
        Self {
            values,
            info: serde_json::Value::Null,
        }
    }

    /// The same with extra information for the log.
    pub fn with_info(mut self, info: serde_json::Value) -> Self {
        self.info = info;
        self
    }
}

/// Scores trials. Called from several worker threads at once when the search has several
/// workers, hence `Sync`.
pub trait Evaluator: Send + Sync {
    /// What is measured, in the order of [`Measurement::values`].
    fn objectives(&self) -> Vec<Objective>;

    /// Scores `trial`. A multi-fidelity evaluator reports intermediate results through `ctx`
    /// and stops when told to; every other evaluator ignores `ctx`.
    fn evaluate(&self, trial: &Trial, ctx: &mut EvalContext<'_>) -> Result<Measurement>;
}

/// Where a trial's reports go.
pub(crate) enum Line<'a> {
    /// No scheduler: every report is answered "go on".
    None,
    /// The scheduler of this process (threads).
    Local(&'a Arc<Mutex<Box<dyn Scheduler>>>),
    /// The coordinator's scheduler, through a trial store (a worker process).
    Remote(&'a mut crate::worker::RemoteLine),
}

/// A trial's line to the scheduler, if the search has one.
pub struct EvalContext<'a> {
    pub(crate) trial: u64,
    pub(crate) line: Line<'a>,
    pub(crate) objectives: &'a [Objective],
    pub(crate) fidelity: Option<u32>,
}

impl<'a> EvalContext<'a> {
    /// A context with no scheduler (for calling an evaluator directly).
    pub fn standalone(trial: u64, objectives: &'a [Objective]) -> Self {
        Self {
            trial,
            line: Line::None,
            objectives,
            fidelity: None,
        }
    }

    /// The highest fidelity to run to: the scheduler's, or `default` without one.
    pub fn max_fidelity(&self, default: u32) -> u32 {
        match &self.line {
            Line::Local(s) => s.lock().map(|s| s.max_fidelity()).unwrap_or(default),
            Line::Remote(r) => r.max_fidelity(),
            Line::None => default,
        }
    }

    /// Reports `values` (in the objectives' own orientation) reached at `fidelity` and says
    /// whether to go on. Without a scheduler the answer is always [`Decision::Continue`].
    pub fn report(&mut self, fidelity: u32, values: &[f64]) -> Result<Decision> {
        self.fidelity = Some(fidelity);
        if matches!(self.line, Line::None) {
            return Ok(Decision::Continue);
        }
        if values.len() != self.objectives.len() {
            return Err(SearchError::Evaluation {
                trial: self.trial,
                message: format!(
                    "reported {} values for {} objectives",
                    values.len(),
                    self.objectives.len()
                ),
            });
        }
        let minimised: Vec<f64> = values
            .iter()
            .zip(self.objectives)
            .map(|(v, o)| o.direction.to_min(*v))
            .collect();
        match &mut self.line {
            Line::None => Ok(Decision::Continue),
            Line::Local(scheduler) => {
                let mut guard = scheduler
                    .lock()
                    .map_err(|_| SearchError::Settings("the scheduler lock was poisoned".into()))?;
                Ok(guard.report(self.trial, fidelity, &minimised)?)
            }
            Line::Remote(remote) => remote.report(fidelity, &minimised),
        }
    }

    /// The last fidelity reported, if any.
    pub fn fidelity(&self) -> Option<u32> {
        self.fidelity
    }
}
