//! A sequential ask/tell loop over a [`Problem`], recording every evaluation and the
//! hypervolume after each one.

use lopper_core::{Evaluated, Optimizer, Space};
use lopper_pareto::{dominates, hypervolume, strictly_dominates};
use serde::{Deserialize, Serialize};

use crate::{Problem, Result, TestkitError};

/// What [`drive`] saw: every evaluation in order, and the hypervolume of all evaluations
/// so far after each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Every evaluated trial, in the order it was asked (and told).
    pub evaluated: Vec<Evaluated>,
    /// `hypervolume[i]`: the hypervolume of the first `i + 1` evaluations, with respect to
    /// the problem's reference point.
    pub hypervolume: Vec<f64>,
    /// The problem's [`Problem::true_hypervolume`].
    pub true_hypervolume: f64,
}

impl Trace {
    /// The hypervolume of all evaluations (0 when there are none).
    pub fn final_hypervolume(&self) -> f64 {
        self.hypervolume.last().copied().unwrap_or(0.0)
    }

    /// The hypervolume regret after each evaluation.
    pub fn regret(&self) -> Vec<f64> {
        self.hypervolume
            .iter()
            .map(|hv| self.true_hypervolume - hv)
            .collect()
    }

    /// The hypervolume regret of all evaluations.
    pub fn final_regret(&self) -> f64 {
        self.true_hypervolume - self.final_hypervolume()
    }

    /// The objective vectors, in order.
    pub fn values(&self) -> Vec<Vec<f64>> {
        self.evaluated.iter().map(|e| e.values.clone()).collect()
    }
}

/// The hypervolume of a growing set of points, recomputed only when a point enlarges it.
#[derive(Debug, Clone)]
pub(crate) struct HvTracker {
    reference: Vec<f64>,
    front: Vec<Vec<f64>>,
    value: f64,
}

impl HvTracker {
    pub(crate) fn new(reference: Vec<f64>) -> Self {
        Self {
            reference,
            front: Vec::new(),
            value: 0.0,
        }
    }

    /// Adds a point and returns the hypervolume of all points added so far.
    pub(crate) fn add(&mut self, values: &[f64]) -> Result<f64> {
        if values.len() != self.reference.len() {
            // Let the hypervolume code report the mismatch.
            hypervolume(&[values], &self.reference)?;
        }
        let inside = strictly_dominates(values, &self.reference);
        let covered = self
            .front
            .iter()
            .any(|q| q.as_slice() == values || dominates(q, values));
        if inside && !covered {
            self.front.retain(|q| !dominates(values, q));
            self.front.push(values.to_vec());
            self.value = hypervolume(&self.front, &self.reference)?;
        }
        Ok(self.value)
    }
}

/// Runs `optimizer` on `problem` for `budget` evaluations: ask `batch` trials (fewer for the
/// last round), evaluate them in order, tell them all, repeat.
///
/// Errors if `batch` is 0, if an ask returns a number of trials other than asked, a point
/// outside the space or a reused trial id, and whenever the optimizer errors.
pub fn drive(
    optimizer: &mut dyn Optimizer,
    problem: &dyn Problem,
    budget: usize,
    batch: usize,
) -> Result<Trace> {
    if batch == 0 {
        return Err(TestkitError::InvalidArgument("batch size 0".into()));
    }
    let space: &dyn Space = problem;
    let mut tracker = HvTracker::new(problem.reference_point());
    let mut trace = Trace {
        evaluated: Vec::with_capacity(budget),
        hypervolume: Vec::with_capacity(budget),
        true_hypervolume: problem.true_hypervolume(),
    };
    let mut seen = std::collections::HashSet::new();
    while trace.evaluated.len() < budget {
        let n = batch.min(budget - trace.evaluated.len());
        let trials = optimizer.ask(space, n)?;
        if trials.len() != n {
            return Err(TestkitError::InvalidArgument(format!(
                "asked for {n} trials, got {}",
                trials.len()
            )));
        }
        let mut done = Vec::with_capacity(n);
        for t in trials {
            space.validate(&t.point)?;
            if !seen.insert(t.id) {
                return Err(TestkitError::InvalidArgument(format!(
                    "trial id {} issued twice",
                    t.id
                )));
            }
            let values = problem.evaluate(&t.point);
            trace.hypervolume.push(tracker.add(&values)?);
            done.push(Evaluated::new(t, values));
        }
        optimizer.tell(&done)?;
        trace.evaluated.extend(done);
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_matches_batch_hypervolume() {
        let mut t = HvTracker::new(vec![2.0, 2.0]);
        let pts = [[1.0, 1.0], [3.0, 0.0], [0.5, 1.5], [1.0, 1.0], [0.0, 0.0]];
        let mut all: Vec<Vec<f64>> = Vec::new();
        for p in pts {
            all.push(p.to_vec());
            let hv = t.add(&p).unwrap();
            assert!((hv - hypervolume(&all, &[2.0, 2.0]).unwrap()).abs() < 1e-12);
        }
        assert_eq!(t.front.len(), 1);
        assert!(t.add(&[1.0]).is_err());
    }
}
