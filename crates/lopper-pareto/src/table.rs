//! Objective vectors from CSV files: what `lopper pareto` and `lopper hypervolume` read.

use std::path::{Path, PathBuf};

/// Why a points file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file does not open or is not CSV.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        source: csv::Error,
    },
    /// A row with another number of cells than the first.
    #[error("{}:{line}: expected {expected} columns, found {found}", path.display())]
    Columns {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// Cells of the first row.
        expected: usize,
        /// Cells of this one.
        found: usize,
    },
    /// A cell that is not a finite number.
    #[error("{}:{line}: {column} is not a finite number: `{cell}`", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// The column (`column 2 (`params`)`).
        column: String,
        /// The cell.
        cell: String,
    },
    /// No data rows.
    #[error("{}: no data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// A numeric table: an optional header and rows of finite numbers, with each row's original
/// cells (so that output can repeat the input exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct PointTable {
    /// The header row, when the first row has no number.
    pub header: Option<Vec<String>>,
    /// The points.
    pub rows: Vec<Vec<f64>>,
    /// Each point's cells as written.
    pub raw: Vec<Vec<String>>,
}

impl PointTable {
    /// Objectives per point.
    pub fn columns(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }

    /// Reads `path`: comma-separated, `#` starts a comment line, a first row none of whose
    /// cells is a number is a header; every other row has the same number of finite numbers.
    pub fn read(path: &Path) -> Result<Self, TableError> {
        let csv_error = |source| TableError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(csv_error)?;
        let mut table = PointTable {
            header: None,
            rows: Vec::new(),
            raw: Vec::new(),
        };
        let mut width = None;
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(i as u64 + 1, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            let cells: Vec<String> = record.iter().map(str::to_string).collect();
            let parsed: Vec<Option<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
            if i == 0 && parsed.iter().all(Option::is_none) {
                width = Some(cells.len());
                table.header = Some(cells);
                continue;
            }
            let expected = *width.get_or_insert(cells.len());
            if cells.len() != expected {
                return Err(TableError::Columns {
                    path: path.to_path_buf(),
                    line,
                    expected,
                    found: cells.len(),
                });
            }
            let mut row = Vec::with_capacity(cells.len());
            for (c, (cell, value)) in cells.iter().zip(parsed).enumerate() {
                match value {
                    Some(v) if v.is_finite() => row.push(v),
                    _ => {
                        let column = match &table.header {
                            Some(h) => format!("column {} (`{}`)", c + 1, h[c]),
                            None => format!("column {}", c + 1),
                        };
                        return Err(TableError::NotANumber {
                            path: path.to_path_buf(),
                            line,
                            column,
                            cell: cell.clone(),
                        });
                    }
                }
            }
            table.rows.push(row);
            table.raw.push(cells);
        }
        if table.rows.is_empty() {
            return Err(TableError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_comments_and_bad_cells() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, "error,params\n# a comment\n0.1, 0.5\n\n0.2,0.4\n").unwrap();
        let t = PointTable::read(&p).unwrap();
        assert_eq!(
            t.header.as_deref(),
            Some(&["error".into(), "params".into()][..])
        );
        assert_eq!(t.rows, vec![vec![0.1, 0.5], vec![0.2, 0.4]]);
        assert_eq!(t.columns(), 2);
        std::fs::write(&p, "error,params\n0.1,x\n").unwrap();
        let e = PointTable::read(&p).unwrap_err().to_string();
        assert!(
            e.ends_with(":2: column 2 (`params`) is not a finite number: `x`"),
            "{e}"
        );
        std::fs::write(&p, "1,2\n1\n").unwrap();
        assert!(matches!(
            PointTable::read(&p),
            Err(TableError::Columns {
                line: 2,
                expected: 2,
                found: 1,
                ..
            })
        ));
        std::fs::write(&p, "a,b\n").unwrap();
        assert!(matches!(
            PointTable::read(&p),
            Err(TableError::Empty { .. })
        ));
    }
}
