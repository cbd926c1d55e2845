//! An archive of non-dominated points with an incrementally maintained hypervolume.
//!
//! Points arrive one at a time, each with a payload (a trial id, a sub-network, …). The
//! archive keeps the points no other arrived point dominates and, on each arrival, adds the
//! new point's exclusive contribution to the hypervolume: `HV(front ∪ {p}) = HV(front) +
//! contribution(p, front)`, the members `p` dominates lying inside `p`'s box. The value
//! after each arrival forms the anytime trace used to compare optimizers over time.

use serde::{Deserialize, Serialize};

use crate::dominance::dominates;
use crate::error::{Result, check_finite, check_points, check_vector};
use crate::hypervolume::{exclusive_unchecked, hypervolume_unchecked};

/// A point of the [`Archive`] and its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry<T> {
    /// Objective values, minimised.
    pub objectives: Vec<f64>,
    /// Whatever the caller attached (an id, a configuration, …).
    pub payload: T,
}

/// What [`Archive::insert`] did with a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Insertion {
    /// The point joined the front.
    Added {
        /// How many members it dominated and replaced.
        removed: usize,
        /// Its exclusive hypervolume contribution (zero if it does not strictly dominate
        /// the reference point, or duplicates a member).
        contribution: f64,
    },
    /// A member dominates the point; the archive is unchanged (bar the trace).
    Dominated,
}

/// The non-dominated subset of the points inserted so far, with their payloads, the
/// hypervolume of that front with respect to a fixed reference point, and the
/// hypervolume after every insertion.
///
/// Duplicates of a front member are kept (they do not dominate each other) and add no
/// volume. Values must be finite, so that the archive survives a JSON checkpoint; map a
/// diverged evaluation to a large finite value before inserting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive<T> {
    reference: Vec<f64>,
    entries: Vec<ArchiveEntry<T>>,
    hypervolume: f64,
    trace: Vec<f64>,
}

impl<T> Archive<T> {
    /// An empty archive measuring hypervolume against `reference`, which must be non-empty
    /// and finite.
    pub fn new(reference: Vec<f64>) -> Result<Self> {
        check_vector(&reference, "reference", None)?;
        check_finite(&reference, "reference")?;
        Ok(Self {
            reference,
            entries: Vec::new(),
            hypervolume: 0.0,
            trace: Vec::new(),
        })
    }

    /// Offers a point. If no member dominates it, it joins the front, the members it
    /// dominates leave, and the hypervolume grows by its exclusive contribution. Either
    /// way the (possibly unchanged) hypervolume is appended to the trace.
    ///
    /// Errors (the archive is then untouched): a length other than the reference's, NaN,
    /// or infinite values.
    pub fn insert(&mut self, objectives: Vec<f64>, payload: T) -> Result<Insertion> {
        check_points(&[&objectives], self.reference.len(), 0)?;
        check_finite(&objectives, "point")?;
        if self
            .entries
            .iter()
            .any(|e| dominates(&e.objectives, &objectives))
        {
            self.trace.push(self.hypervolume);
            return Ok(Insertion::Dominated);
        }
        let contribution = exclusive_unchecked(
            &objectives,
            self.entries.iter().map(|e| e.objectives.as_slice()),
            &self.reference,
        );
        let before = self.entries.len();
        self.entries
            .retain(|e| !dominates(&objectives, &e.objectives));
        let removed = before - self.entries.len();
        self.entries.push(ArchiveEntry {
            objectives,
            payload,
        });
        self.hypervolume += contribution;
        self.trace.push(self.hypervolume);
        Ok(Insertion::Added {
            removed,
            contribution,
        })
    }

    /// The reference point.
    pub fn reference(&self) -> &[f64] {
        &self.reference
    }

    /// The current front, in order of arrival.
    pub fn entries(&self) -> &[ArchiveEntry<T>] {
        &self.entries
    }

    /// The current front's objective vectors, in order of arrival.
    pub fn points(&self) -> impl Iterator<Item = &[f64]> {
        self.entries.iter().map(|e| e.objectives.as_slice())
    }

    /// The size of the current front.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the front is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The hypervolume of the current front, maintained incrementally.
    pub fn hypervolume(&self) -> f64 {
        self.hypervolume
    }

    /// The hypervolume after each successful [`insert`](Self::insert), dominated points
    /// included: non-decreasing, one value per inserted point.
    pub fn trace(&self) -> &[f64] {
        &self.trace
    }

    /// The hypervolume of the current front computed from scratch (to check the running
    /// value, e.g. after restoring a checkpoint).
    pub fn recompute_hypervolume(&self) -> f64 {
        hypervolume_unchecked(self.points(), &self.reference)
    }

    /// The front, consuming the archive.
    pub fn into_entries(self) -> Vec<ArchiveEntry<T>> {
        self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParetoError, hypervolume, non_dominated};
    use proptest::prelude::*;

    #[test]
    fn builds_the_known_front() {
        let mut archive = Archive::new(vec![2.0, 2.0]).unwrap();
        assert_eq!(
            archive.insert(vec![1.0, 1.0], 1u64).unwrap(),
            Insertion::Added {
                removed: 0,
                contribution: 1.0
            }
        );
        assert_eq!(
            archive.insert(vec![1.5, 1.5], 2).unwrap(),
            Insertion::Dominated
        );
        // (0, 1) dominates (1, 1) and replaces it.
        let replacing = archive.insert(vec![0.0, 1.0], 3).unwrap();
        assert_eq!(
            replacing,
            Insertion::Added {
                removed: 1,
                contribution: 1.0
            }
        );
        archive.insert(vec![1.0, 0.0], 4).unwrap();
        let last = archive.insert(vec![0.5, 0.5], 5).unwrap();
        assert_eq!(
            last,
            Insertion::Added {
                removed: 0,
                contribution: 0.25
            }
        );
        assert_eq!(archive.hypervolume(), 3.25);
        assert_eq!(archive.trace(), &[1.0, 1.0, 2.0, 3.0, 3.25]);
        let ids: Vec<u64> = archive.entries().iter().map(|e| e.payload).collect();
        assert_eq!(ids, vec![3, 4, 5]);
        // A duplicate joins without volume.
        let dup = archive.insert(vec![0.5, 0.5], 6).unwrap();
        assert_eq!(
            dup,
            Insertion::Added {
                removed: 0,
                contribution: 0.0
            }
        );
        assert_eq!(archive.len(), 4);
    }

    #[test]
    fn rejects_bad_points_without_changing() {
        let mut archive: Archive<()> = Archive::new(vec![1.0, 1.0]).unwrap();
        assert!(matches!(
            archive.insert(vec![0.0], ()),
            Err(ParetoError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            archive.insert(vec![f64::NAN, 0.0], ()),
            Err(ParetoError::NanPoint { .. })
        ));
        assert!(matches!(
            archive.insert(vec![f64::INFINITY, 0.0], ()),
            Err(ParetoError::NonFinite {
                what: "point",
                objective: 0,
                ..
            })
        ));
        assert!(archive.trace().is_empty() && archive.is_empty());
        assert!(Archive::<()>::new(vec![]).is_err());
        assert!(Archive::<()>::new(vec![f64::INFINITY]).is_err());
    }

    #[test]
    fn json_round_trip() {
        let mut archive = Archive::new(vec![2.0, 2.0, 2.0]).unwrap();
        archive
            .insert(vec![1.0, 0.0, 0.0], "a".to_string())
            .unwrap();
        archive
            .insert(vec![0.0, 1.0, 0.0], "b".to_string())
            .unwrap();
        let json = serde_json::to_string(&archive).unwrap();
        let back: Archive<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, archive);
        assert_eq!(back.recompute_hypervolume(), back.hypervolume());
    }

    proptest! {
        #[test]
        fn incremental_equals_recomputation(
            points in (1usize..=4).prop_flat_map(|d| prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![(0u8..=4).prop_map(|v| f64::from(v) * 0.5), 0.0..2.5f64], d),
                0..30))
        ) {
            let d = points.first().map_or(1, Vec::len);
            let mut archive = Archive::new(vec![2.0; d]).unwrap();
            for (i, p) in points.iter().enumerate() {
                archive.insert(p.clone(), i).unwrap();
                let seen = &points[..=i];
                let expected = hypervolume(seen, &[2.0; 4][..d]).unwrap();
                let got = archive.hypervolume();
                prop_assert!((got - expected).abs() <= 1e-9 * expected.max(1.0),
                    "after {} points: {} vs {}", i + 1, got, expected);
                let mut front: Vec<usize> = archive.entries().iter().map(|e| e.payload).collect();
                front.sort_unstable();
                prop_assert_eq!(front, non_dominated(seen));
            }
            prop_assert_eq!(archive.trace().len(), points.len());
            prop_assert!(archive.trace().windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
