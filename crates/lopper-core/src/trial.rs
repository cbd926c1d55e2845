//! Trials an optimizer asks for and the evaluations it is told, with the bookkeeping every
//! optimizer needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{CoreError, Point, Result};

/// A point an optimizer asked to evaluate, with the id it will be told back under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Trial {
    /// Unique within one search, assigned by the optimizer in ask order.
    pub id: u64,
    /// What to evaluate.
    pub point: Point,
}

/// A finished trial: its objective values, in minimisation orientation and in the order of
/// the search's objectives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    /// The trial that was evaluated.
    pub trial: Trial,
    /// Objective values, all to be minimised.
    pub values: Vec<f64>,
}

impl Evaluated {
    /// Bundles a trial with its values.
    pub fn new(trial: Trial, values: Vec<f64>) -> Self {
        Self { trial, values }
    }

    /// The values with infinities clamped to `±f64::MAX`: what an optimizer should keep in its
    /// state, since JSON (and so a checkpoint) cannot hold an infinity. The order of any two
    /// values is kept, except that an infinity ties with `±f64::MAX`.
    pub fn storable_values(&self) -> Vec<f64> {
        self.values
            .iter()
            .map(|v| v.clamp(f64::MIN, f64::MAX))
            .collect()
    }
}

/// Trial-id bookkeeping shared by optimizers: hands out ids in order, remembers which trials
/// are still out, and refuses a `tell` of a trial that is not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingTrials {
    next_id: u64,
    pending: BTreeMap<u64, Point>,
}

impl PendingTrials {
    /// No trial issued yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a new trial for `point`.
    pub fn issue(&mut self, point: Point) -> Trial {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(id, point.clone());
        Trial { id, point }
    }

    /// Marks an evaluation as received after checking that its trial is pending with the same
    /// point, that it carries `num_objectives` values and that none is NaN.
    pub fn complete(&mut self, done: &Evaluated, num_objectives: usize) -> Result<()> {
        match self.pending.get(&done.trial.id) {
            Some(p) if *p == done.trial.point => {}
            _ => return Err(CoreError::UnknownTrial(done.trial.id)),
        }
        if done.values.len() != num_objectives {
            return Err(CoreError::ObjectiveCount {
                expected: num_objectives,
                found: done.values.len(),
            });
        }
        if let Some(&v) = done.values.iter().find(|v| v.is_nan()) {
            return Err(CoreError::NonFinite {
                trial: done.trial.id,
                value: v,
            });
        }
        self.pending.remove(&done.trial.id);
        Ok(())
    }

    /// Checks a whole batch before any of it is recorded, then records it: a bad batch leaves
    /// the bookkeeping untouched.
    pub fn complete_all(&mut self, done: &[Evaluated], num_objectives: usize) -> Result<()> {
        let mut probe = self.clone();
        for d in done {
            probe.complete(d, num_objectives)?;
        }
        *self = probe;
        Ok(())
    }

    /// Trials asked and not yet told.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Trials issued so far.
    pub fn issued(&self) -> u64 {
        self.next_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping() {
        let mut p = PendingTrials::new();
        let a = p.issue(Point(vec![1]));
        let b = p.issue(Point(vec![2]));
        assert_eq!((a.id, b.id), (0, 1));
        assert_eq!(p.outstanding(), 2);
        p.complete(&Evaluated::new(b.clone(), vec![0.1, 0.2]), 2)
            .unwrap();
        assert_eq!(
            p.complete(&Evaluated::new(b, vec![0.1, 0.2]), 2),
            Err(CoreError::UnknownTrial(1))
        );
        let wrong = Evaluated::new(
            Trial {
                id: 0,
                point: Point(vec![9]),
            },
            vec![0.1, 0.2],
        );
        assert!(p.complete(&wrong, 2).is_err());
        assert!(matches!(
            p.complete(&Evaluated::new(a.clone(), vec![0.1]), 2),
            Err(CoreError::ObjectiveCount {
                expected: 2,
                found: 1
            })
        ));
        assert!(
            p.complete(&Evaluated::new(a.clone(), vec![f64::NAN, 1.0]), 2)
                .is_err()
        );
        // A batch with one bad entry records nothing.
        let ghost = Evaluated::new(
            Trial {
                id: 77,
                point: Point(vec![1]),
            },
            vec![0.0, 0.0],
        );
        assert!(
            p.complete_all(&[Evaluated::new(a.clone(), vec![0.0, 0.0]), ghost], 2)
                .is_err()
        );
        assert_eq!(p.outstanding(), 1);
        p.complete_all(&[Evaluated::new(a, vec![0.0, 0.0])], 2)
            .unwrap();
        assert_eq!(p.outstanding(), 0);
    }
}
