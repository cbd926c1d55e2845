//! Reading objective vectors from CSV files.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// A numeric table: an optional header and rows of finite numbers, with each row's source line
/// and original text (so that output can repeat the input exactly).
pub struct Table {
    pub header: Option<Vec<String>>,
    pub rows: Vec<Vec<f64>>,
    pub raw: Vec<Vec<String>>,
}

impl Table {
    pub fn columns(&self) -> usize {
        self.rows.first().map_or(0, Vec::len)
    }
}

/// Reads `path`: comma-separated, `#` starts a comment line, a first row none of whose cells is
/// a number is a header. Every other row must have the same number of finite numbers.
pub fn read_table(path: &Path) -> Result<Table> {
    let name = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{name}: cannot open"))?;
    let mut table = Table {
        header: None,
        rows: Vec::new(),
        raw: Vec::new(),
    };
    let mut width = None;
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{name}: not a readable CSV file"))?;
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
            bail!(
                "{name}:{line}: expected {expected} columns, found {}",
                cells.len()
            );
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
                    bail!("{name}:{line}: {column} is not a finite number: `{cell}`");
                }
            }
        }
        table.rows.push(row);
        table.raw.push(cells);
    }
    if table.rows.is_empty() {
        bail!("{name}: no data rows");
    }
    Ok(table)
}

/// Parses `2,2` into a point.
pub fn parse_point(text: &str) -> Result<Vec<f64>> {
    text.split(',')
        .map(|c| {
            let c = c.trim();
            match c.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => bail!("`{c}` in `{text}` is not a finite number"),
            }
        })
        .collect()
}
