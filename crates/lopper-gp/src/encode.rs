//! The unit-cube encoding of a search space's points, the input space of the kernel.

use lopper_core::{Dim, Domain, Point};
use serde::{Deserialize, Serialize};

/// How one dimension of the space is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Column {
    /// A single value: no column, no length-scale.
    Constant,
    /// Integer, ordinal or binary: one column in `[0, 1]` ([`Domain::to_unit`]).
    Scalar { domain: Domain, column: usize },
    /// Categorical: `choices` columns, one-hot.
    OneHot { choices: usize, first: usize },
}

/// Maps points of a [`Space`](lopper_core::Space) to vectors in the unit cube:
///
/// | domain | columns |
/// |---|---|
/// | integer, ordinal | one, [`Domain::to_unit`] (integers scaled to `[0, 1]`, ordinals by their values) |
/// | binary | one, 0 or 1 |
/// | categorical with `k` choices | `k`, one-hot (two different choices are at squared distance 2) |
/// | a single value | none |
///
/// Every dimension that is not constant owns one *group* of columns, and each group has its
/// own length-scale (automatic relevance determination): a categorical dimension gets one
/// length-scale for all of its one-hot columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    dims: Vec<Column>,
    column_group: Vec<usize>,
    dim_group: Vec<Option<usize>>,
}

impl Encoding {
    /// The encoding of a space with dimensions `dims`.
    pub fn new(dims: &[Dim]) -> Self {
        let mut columns = Vec::with_capacity(dims.len());
        let mut column_group = Vec::new();
        let mut dim_group = Vec::with_capacity(dims.len());
        let mut groups = 0;
        for dim in dims {
            let card = dim.domain.cardinality();
            if card <= 1 {
                columns.push(Column::Constant);
                dim_group.push(None);
                continue;
            }
            match &dim.domain {
                Domain::Categorical { choices } => {
                    columns.push(Column::OneHot {
                        choices: choices.len(),
                        first: column_group.len(),
                    });
                    column_group.extend(std::iter::repeat_n(groups, choices.len()));
                }
                domain => {
                    columns.push(Column::Scalar {
                        domain: domain.clone(),
                        column: column_group.len(),
                    });
                    column_group.push(groups);
                }
            }
            dim_group.push(Some(groups));
            groups += 1;
        }
        Self {
            dims: columns,
            column_group,
            dim_group,
        }
    }

    /// Number of columns of an encoded point.
    pub fn columns(&self) -> usize {
        self.column_group.len()
    }

    /// Number of length-scales (dimensions that are not constant).
    pub fn num_groups(&self) -> usize {
        self.dim_group.iter().flatten().count()
    }

    /// The length-scale group of each column.
    pub fn column_groups(&self) -> &[usize] {
        &self.column_group
    }

    /// The length-scale group of dimension `dim` (`None` for a constant dimension).
    pub fn group_of_dim(&self, dim: usize) -> Option<usize> {
        self.dim_group.get(dim).copied().flatten()
    }

    /// Number of dimensions of the space the encoding was made for.
    pub fn num_dims(&self) -> usize {
        self.dims.len()
    }

    /// `p` in the unit cube. Coordinates outside their domain are clamped; missing ones
    /// count as the lower bound.
    pub fn encode(&self, p: &Point) -> Vec<f64> {
        let mut x = vec![0.0; self.columns()];
        for (i, col) in self.dims.iter().enumerate() {
            let v = p.coords().get(i).copied();
            match col {
                Column::Constant => {}
                Column::Scalar { domain, column } => {
                    let v = v.unwrap_or(domain.bounds().0);
                    x[*column] = domain.to_unit(v).clamp(0.0, 1.0);
                }
                Column::OneHot { choices, first } => {
                    let k = v.unwrap_or(0).clamp(0, *choices as i64 - 1) as usize;
                    x[first + k] = 1.0;
                }
            }
        }
        x
    }

    /// Every point of `points`, encoded.
    pub fn encode_all(&self, points: &[Point]) -> Vec<Vec<f64>> {
        points.iter().map(|p| self.encode(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_domains() {
        let dims = vec![
            Dim::integer("i", 2, 6),
            Dim::integer("fixed", 3, 3),
            Dim::categorical("c", vec!["a".into(), "b".into(), "c".into()]),
            Dim::binary("b"),
            Dim::ordinal("o", vec![1.0, 2.0, 5.0]),
        ];
        let enc = Encoding::new(&dims);
        assert_eq!(enc.columns(), 6);
        assert_eq!(enc.num_groups(), 4);
        assert_eq!(enc.column_groups(), &[0, 1, 1, 1, 2, 3]);
        assert_eq!(enc.group_of_dim(1), None);
        assert_eq!(enc.group_of_dim(4), Some(3));
        let x = enc.encode(&Point(vec![3, 3, 2, 1, 1]));
        assert_eq!(x, vec![0.25, 0.0, 0.0, 1.0, 1.0, 0.25]);
        let json = serde_json::to_string(&enc).unwrap();
        assert_eq!(serde_json::from_str::<Encoding>(&json).unwrap(), enc);
    }
}
