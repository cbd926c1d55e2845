//! Training data: encoded inputs, targets and the column-to-length-scale map.

use crate::{Encoding, GpError, Result};

/// The inputs (rows in the unit cube) and targets a Gaussian process is fitted to.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingData {
    pub(crate) x: Vec<Vec<f64>>,
    pub(crate) y: Vec<f64>,
    pub(crate) column_groups: Vec<usize>,
    pub(crate) num_groups: usize,
}

impl TrainingData {
    /// Data for points encoded with `encoding` (rows of `x`) and their targets `y`.
    pub fn new(encoding: &Encoding, x: Vec<Vec<f64>>, y: Vec<f64>) -> Result<Self> {
        Self::with_groups(
            encoding.column_groups().to_vec(),
            encoding.num_groups(),
            x,
            y,
        )
    }

    /// Data whose column `c` has length-scale `column_groups[c] < num_groups` (one
    /// length-scale per column: `column_groups = [0, 1, …]`).
    pub fn with_groups(
        column_groups: Vec<usize>,
        num_groups: usize,
        x: Vec<Vec<f64>>,
        y: Vec<f64>,
    ) -> Result<Self> {
        let bad = |m: String| Err(GpError::InvalidData(m));
        if x.is_empty() {
            return bad("no training points".into());
        }
        if x.len() != y.len() {
            return bad(format!("{} inputs but {} targets", x.len(), y.len()));
        }
        if let Some(row) = x.iter().find(|r| r.len() != column_groups.len()) {
            return bad(format!(
                "an input has {} columns, the encoding {}",
                row.len(),
                column_groups.len()
            ));
        }
        if column_groups.iter().any(|&g| g >= num_groups) {
            return bad(format!("a column group is not below {num_groups}"));
        }
        if x.iter().flatten().chain(&y).any(|v| !v.is_finite()) {
            return bad("inputs and targets must be finite".into());
        }
        Ok(Self {
            x,
            y,
            column_groups,
            num_groups,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Whether there are no points (never: construction refuses it).
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Number of length-scales.
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// The targets.
    pub fn targets(&self) -> &[f64] {
        &self.y
    }

    /// Mean and standard deviation of the targets (the deviation is 1 when they are
    /// constant), with which outputs are standardised.
    pub fn standardisation(&self) -> (f64, f64) {
        let n = self.y.len() as f64;
        let mean = self.y.iter().sum::<f64>() / n;
        let var = self.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt();
        (
            mean,
            if sd > 1e-12 * mean.abs().max(1.0) {
                sd
            } else {
                1.0
            },
        )
    }
}
