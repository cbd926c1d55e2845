//! The error type of `lopper-pareto`, and the input checks shared by its modules.

use thiserror::Error;

/// Everything that can be wrong with the input of a Pareto computation.
///
/// Point indices count the points in the order they were given; where several runs are
/// pooled (the comparison protocol of [`quantile_hypervolumes`](crate::quantile_hypervolumes)),
/// they count the pooled points, run after run.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ParetoError {
    /// A reference point with no coordinates.
    #[error("the reference point is empty")]
    EmptyReference,
    /// A point whose number of objectives differs from the reference's (or the first
    /// point's, where there is no reference).
    #[error("point {index} has {found} objectives, expected {expected}")]
    DimensionMismatch {
        /// Which point.
        index: usize,
        /// The number of objectives every point must have.
        expected: usize,
        /// The number it has.
        found: usize,
    },
    /// A bound or reference vector of the wrong length.
    #[error("{what} has {found} coordinates, expected {expected}")]
    VectorLength {
        /// Which vector (`"reference"`, `"lower bound"`, …).
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// A point with a NaN objective value.
    #[error("objective {objective} of point {index} is NaN")]
    NanPoint {
        /// Which point.
        index: usize,
        /// Which objective (0-based).
        objective: usize,
    },
    /// A NaN coordinate in a reference point or bound vector.
    #[error("coordinate {objective} of the {what} is NaN")]
    NanVector {
        /// Which vector (`"reference"`, `"lower bound"`, …).
        what: &'static str,
        /// Which coordinate (0-based).
        objective: usize,
    },
    /// An infinite value where only finite ones are accepted (the [`Archive`](crate::Archive),
    /// whose checkpoints are JSON, which has no infinities).
    #[error("coordinate {objective} of the {what} is {value}; only finite values are accepted")]
    NonFinite {
        /// Which vector (`"point"`, `"reference"`).
        what: &'static str,
        /// Which coordinate (0-based).
        objective: usize,
        /// The offending value.
        value: f64,
    },
    /// Normalisation bounds that do not span a positive, finite interval.
    #[error(
        "bounds of objective {objective} are [{lower}, {upper}]; need lower < upper, both finite"
    )]
    InvalidBounds {
        /// Which objective (0-based).
        objective: usize,
        /// The lower bound given.
        lower: f64,
        /// The upper bound given.
        upper: f64,
    },
    /// An objective index beyond the points' dimension.
    #[error("objective index {objective} is out of range for {dimension}-objective points")]
    ObjectiveIndex {
        /// The index asked for.
        objective: usize,
        /// The points' number of objectives.
        dimension: usize,
    },
    /// An indicator that needs a non-empty reference front was given an empty one.
    #[error("the reference front is empty")]
    EmptyReferenceFront,
}

/// Shorthand for results of this crate.
pub type Result<T, E = ParetoError> = std::result::Result<T, E>;

/// Checks that `vector` (a reference point or a bound) is non-empty when `expected` is
/// `None`, or has `expected` coordinates, and holds no NaN.
pub(crate) fn check_vector(
    vector: &[f64],
    what: &'static str,
    expected: Option<usize>,
) -> Result<()> {
    match expected {
        None if vector.is_empty() => return Err(ParetoError::EmptyReference),
        Some(expected) if vector.len() != expected => {
            return Err(ParetoError::VectorLength {
                what,
                expected,
                found: vector.len(),
            });
        }
        _ => {}
    }
    match vector.iter().position(|v| v.is_nan()) {
        Some(objective) => Err(ParetoError::NanVector { what, objective }),
        None => Ok(()),
    }
}

/// Checks that `vector` holds finite values only.
pub(crate) fn check_finite(vector: &[f64], what: &'static str) -> Result<()> {
    match vector.iter().position(|v| !v.is_finite()) {
        Some(objective) => Err(ParetoError::NonFinite {
            what,
            objective,
            value: vector[objective],
        }),
        None => Ok(()),
    }
}

/// Checks that every point has `dim` objectives and none is NaN; `offset` is added to the
/// reported indices (for pooled runs).
pub(crate) fn check_points<P: AsRef<[f64]>>(points: &[P], dim: usize, offset: usize) -> Result<()> {
    for (i, p) in points.iter().enumerate() {
        let p = p.as_ref();
        if p.len() != dim {
            return Err(ParetoError::DimensionMismatch {
                index: offset + i,
                expected: dim,
                found: p.len(),
            });
        }
        if let Some(objective) = p.iter().position(|v| v.is_nan()) {
            return Err(ParetoError::NanPoint {
                index: offset + i,
                objective,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_report_the_first_problem() {
        assert_eq!(
            check_vector(&[], "reference", None),
            Err(ParetoError::EmptyReference)
        );
        assert_eq!(
            check_vector(&[1.0, f64::NAN], "reference", None),
            Err(ParetoError::NanVector {
                what: "reference",
                objective: 1
            })
        );
        assert_eq!(
            check_vector(&[1.0], "upper bound", Some(2)),
            Err(ParetoError::VectorLength {
                what: "upper bound",
                expected: 2,
                found: 1
            })
        );
        let points = vec![vec![0.0, 1.0], vec![0.0], vec![f64::NAN, 0.0]];
        assert_eq!(
            check_points(&points, 2, 10),
            Err(ParetoError::DimensionMismatch {
                index: 11,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            check_points(&points[2..], 2, 0),
            Err(ParetoError::NanPoint {
                index: 0,
                objective: 0
            })
        );
        assert!(check_points(&points[..1], 2, 0).is_ok());
        let message = ParetoError::DimensionMismatch {
            index: 3,
            expected: 2,
            found: 1,
        };
        assert_eq!(message.to_string(), "point 3 has 1 objectives, expected 2");
    }
}
