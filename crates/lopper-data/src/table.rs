//! Reading delimited files row by row, with the checks every reader shares.
//!
//! TSV is read with quoting off: GLUE's TSV files contain unbalanced `"` (MRPC, QNLI, MNLI),
//! and its original loader reads them with `quotechar=None`. CSV is read with RFC 4180
//! quoting (IMDB reviews and SWAG sentences contain commas, quotes and line breaks).
//! A leading UTF-8 byte-order mark (MRPC's header) is removed, a missing final newline
//! (CoLA's dev file) is fine, and a row whose field count differs from the header's (or
//! from the layout's, for headerless files) is an error, never a silently padded row.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use csv::{ReaderBuilder, StringRecord};

use crate::{DataError, Result};

/// A field delimiter and its quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimited {
    /// Tab-separated, quoting off.
    Tsv,
    /// Comma-separated, RFC 4180 quoting.
    Csv,
}

/// One data row: its fields and its 1-based line.
pub(crate) struct Row {
    pub line: u64,
    pub fields: StringRecord,
}

impl Row {
    /// The field at `index` (the reader has checked the row's width).
    pub fn get(&self, index: usize) -> &str {
        self.fields.get(index).unwrap_or("")
    }
}

/// An open delimited file.
pub(crate) struct Table {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    header: Option<Vec<String>>,
    width: Option<usize>,
    first: bool,
    rows: usize,
    /// Drop the `\r` of CRLF line ends (TSV).
    crlf_strip: bool,
}

impl Table {
    /// Opens `path`. With `header`, the first row names the columns and fixes the width;
    /// without, `width` (if given) is the expected number of fields of every row.
    pub fn open(path: &Path, kind: Delimited, header: bool, width: Option<usize>) -> Result<Self> {
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut builder = ReaderBuilder::new();
        builder.has_headers(false).flexible(true);
        match kind {
            // Rows end at `\n`, and a `\r` before it is dropped below: the reader's own CRLF
            // handling reports every row of a CRLF file one line too early.
            Delimited::Tsv => builder
                .delimiter(b'\t')
                .quoting(false)
                .terminator(csv::Terminator::Any(b'\n')),
            Delimited::Csv => builder.delimiter(b','),
        };
        let mut table = Self {
            path: path.to_path_buf(),
            reader: builder.from_reader(BufReader::new(file)),
            header: None,
            width,
            first: true,
            rows: 0,
            crlf_strip: kind == Delimited::Tsv,
        };
        if header {
            let Some(row) = table.raw_row()? else {
                return Err(DataError::Empty {
                    path: table.path.clone(),
                    expected: "a header row and data rows".into(),
                });
            };
            let names: Vec<String> = row.fields.iter().map(|f| f.trim().to_owned()).collect();
            table.width = Some(names.len());
            table.header = Some(names);
        }
        Ok(table)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of the column `name` of the header.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.find(name).ok_or_else(|| DataError::MissingColumn {
            path: self.path.clone(),
            line: 1,
            column: name.to_owned(),
            found: self.header.as_deref().unwrap_or_default().join(", "),
        })
    }

    /// The index of the column `name`, if the header has it.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.header.as_ref()?.iter().position(|h| h == name)
    }

    /// The next data row, checked for its width; `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row>> {
        let Some(row) = self.raw_row()? else {
            return Ok(None);
        };
        let found = row.fields.len();
        match self.width {
            Some(expected) if expected != found => {
                return Err(DataError::Malformed {
                    path: self.path.clone(),
                    line: row.line,
                    expected,
                    found,
                });
            }
            None => self.width = Some(found),
            Some(_) => {}
        }
        self.rows += 1;
        Ok(Some(row))
    }

    /// Fails with [`DataError::Empty`] if no data row was read.
    pub fn finish(&self) -> Result<()> {
        if self.rows == 0 {
            return Err(DataError::Empty {
                path: self.path.clone(),
                expected: "at least one data row".into(),
            });
        }
        Ok(())
    }

    fn raw_row(&mut self) -> Result<Option<Row>> {
        let mut fields = StringRecord::new();
        let more = self
            .reader
            .read_record(&mut fields)
            .map_err(|e| DataError::Parse {
                path: self.path.clone(),
                line: e.position().map_or(0, |p| p.line()),
                source: e.into(),
            })?;
        if !more {
            return Ok(None);
        }
        let line = fields.position().map_or(0, |p| p.line());
        if self.crlf_strip && fields.iter().next_back().is_some_and(|f| f.ends_with('\r')) {
            let mut cleaned = StringRecord::new();
            let n = fields.len();
            for (i, f) in fields.iter().enumerate() {
                cleaned.push_field(if i + 1 == n {
                    f.trim_end_matches('\r')
                } else {
                    f
                });
            }
            cleaned.set_position(fields.position().cloned());
            fields = cleaned;
        }
        if std::mem::take(&mut self.first) {
            strip_bom(&mut fields);
        }
        Ok(Some(Row { line, fields }))
    }
}

fn strip_bom(fields: &mut StringRecord) {
    if fields.get(0).is_some_and(|f| f.starts_with('\u{feff}')) {
        let stripped: StringRecord = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    f.trim_start_matches('\u{feff}')
                } else {
                    f
                }
            })
            .collect();
        *fields = stripped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn crlf_rows_keep_their_lines_and_lose_the_carriage_return() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tsv");
        std::fs::write(&path, "a\tb\r\n1\tx\r\n2\ty\r\n").unwrap();
        let mut t = Table::open(&path, Delimited::Tsv, true, None).unwrap();
        let r = t.next_row().unwrap().unwrap();
        assert_eq!((r.line, r.get(1)), (2, "x"));
        let r = t.next_row().unwrap().unwrap();
        assert_eq!((r.line, r.get(1)), (3, "y"));
        assert!(t.next_row().unwrap().is_none());
    }

    #[test]
    fn tsv_keeps_quotes_strips_the_bom_and_tolerates_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.tsv", "\u{feff}A\tB\n\"x\ty\"\"\n1\t2");
        let mut t = Table::open(&p, Delimited::Tsv, true, None).unwrap();
        assert_eq!(t.column("A").unwrap(), 0);
        let r = t.next_row().unwrap().unwrap();
        assert_eq!((r.line, r.get(0), r.get(1)), (2, "\"x", "y\"\""));
        let r = t.next_row().unwrap().unwrap();
        assert_eq!((r.line, r.get(1)), (3, "2"));
        assert!(t.next_row().unwrap().is_none());
        t.finish().unwrap();
    }

    #[test]
    fn csv_quotes_span_lines_and_widths_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.csv", "a,b\n\"x, \"\"q\"\"\ny\",1\nz\n");
        let mut t = Table::open(&p, Delimited::Csv, true, None).unwrap();
        let r = t.next_row().unwrap().unwrap();
        assert_eq!(r.get(0), "x, \"q\"\ny");
        let e = t.next_row().err().unwrap().to_string();
        assert!(
            e.ends_with("a.csv:4: malformed row: expected 2 fields, found 1"),
            "{e}"
        );
    }
}
