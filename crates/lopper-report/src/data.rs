//! Reading the files of run folders.

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ReportError;

/// The text of a file.
pub(crate) fn read_text(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))
}

/// A JSON file as `T`.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    serde_json::from_str(&read_text(path)?).map_err(|e| ReportError::parse(path, Some(e.line()), e))
}

/// The objects of a JSON-lines file. Blank lines are skipped; an unparsable last line (a write
/// cut short by a crash) is ignored, an unparsable line elsewhere is an error.
pub(crate) fn read_jsonl(path: &Path) -> Result<Vec<Value>, ReportError> {
    parse_jsonl(path, &read_text(path)?)
}

pub(crate) fn parse_jsonl(path: &Path, text: &str) -> Result<Vec<Value>, ReportError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let mut out = Vec::with_capacity(lines.len());
    for (k, (i, line)) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(v) => out.push(v),
            Err(_) if k + 1 == lines.len() => break,
            Err(e) => return Err(ReportError::parse(path, Some(i + 1), e)),
        }
    }
    Ok(out)
}

/// The objective values of the finished trials of a `trials.jsonl` (failed trials, with a
/// missing or null value, are left out).
pub(crate) fn trial_values(path: &Path) -> Result<Vec<Vec<f64>>, ReportError> {
    Ok(read_jsonl(path)?
        .iter()
        .filter_map(|t| {
            t.get("values")?
                .as_array()?
                .iter()
                .map(Value::as_f64)
                .collect::<Option<Vec<f64>>>()
        })
        .collect())
}

/// The hypervolume column of a `hypervolume.csv` (`evaluation,hypervolume`).
pub(crate) fn read_hypervolume(path: &Path) -> Result<Vec<f64>, ReportError> {
    let text = read_text(path)?;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let line = |e: &csv::Error| e.position().map(|p| p.line() as usize);
    let column = reader
        .headers()
        .map_err(|e| ReportError::parse(path, line(&e), &e))?
        .iter()
        .position(|h| h.trim() == "hypervolume")
        .ok_or_else(|| ReportError::parse(path, Some(1), "no `hypervolume` column"))?;
    let mut trace = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ReportError::parse(path, line(&e), &e))?;
        let at = record.position().map(|p| p.line() as usize);
        let cell = record.get(column).unwrap_or("").trim();
        let hv = cell
            .parse()
            .map_err(|_| ReportError::parse(path, at, format!("`{cell}` is not a number")))?;
        trace.push(hv);
    }
    Ok(trace)
}

/// An objective as `front.json` describes it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Objective {
    pub name: String,
    #[serde(default)]
    pub unit: Option<String>,
}

impl Objective {
    /// `name (unit)`, for axes and table headers.
    pub fn label(&self) -> String {
        match &self.unit {
            Some(u) if !u.is_empty() => format!("{} ({u})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// A member of the front (or the selected sub-network).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Member {
    pub id: Option<u64>,
    pub summary: Option<String>,
    pub values: Vec<Option<f64>>,
    pub test_error: Option<f64>,
}

/// `front.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Front {
    pub objectives: Vec<Objective>,
    pub reference_point: Option<Vec<f64>>,
    pub front: Vec<Member>,
    pub full: Option<Member>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_ignores_a_partial_last_line_only() {
        let p = Path::new("/run/trials.jsonl");
        let good = "{\"a\":1}\n\n{\"a\":2}\n{\"a\":";
        assert_eq!(parse_jsonl(p, good).unwrap().len(), 2);
        match parse_jsonl(p, "{\"a\":1}\n{oops\n{\"a\":2}\n") {
            Err(e @ ReportError::Parse { line: Some(2), .. }) => {
                assert!(
                    e.to_string().starts_with("/run/trials.jsonl line 2: "),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trials_skip_failures_and_hypervolume_parses() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("trials.jsonl");
        std::fs::write(
            &t,
            "{\"id\":0,\"values\":[0.5,0.7]}\n{\"id\":1,\"values\":[null,0.2]}\n{\"id\":2,\"values\":[0.4,0.9]}\n{\"id\":3,\"va",
        )
        .unwrap();
        assert_eq!(
            trial_values(&t).unwrap(),
            vec![vec![0.5, 0.7], vec![0.4, 0.9]]
        );
        let h = dir.path().join("hypervolume.csv");
        std::fs::write(&h, "evaluation,hypervolume\n1,0.1\n2,0.25\n").unwrap();
        assert_eq!(read_hypervolume(&h).unwrap(), vec![0.1, 0.25]);
        std::fs::write(&h, "evaluation,hypervolume\n1,0.1\n2,x\n").unwrap();
        match read_hypervolume(&h) {
            Err(ReportError::Parse { line, path, .. }) => {
                assert_eq!((line, path), (Some(3), h));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn front_json_tolerates_missing_fields() {
        let f: Front = serde_json::from_str(
            r#"{"objectives":[{"name":"error","unit":"fraction"},{"name":"params"}],
                "reference_point":null,"front":[{"id":3,"values":[0.4,0.5],"extra":1}]}"#,
        )
        .unwrap();
        assert_eq!(f.objectives[0].label(), "error (fraction)");
        assert_eq!(f.objectives[1].label(), "params");
        assert_eq!(f.front[0].test_error, None);
        assert!(f.full.is_none());
    }
}
