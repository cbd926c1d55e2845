//! The reports: a small document model rendered both as Markdown and as one HTML page.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::data::{Front, Member, Objective, read_hypervolume, read_json, read_jsonl, read_text};
use crate::plot::{plot_loss, search_plots, with_ext};
use crate::{ReportError, escape_html, fmt_num, write_atomic};

/// Steps averaged in the loss plot.
const LOSS_WINDOW: usize = 50;

enum Block {
    Heading(u8, String),
    Text(String),
    Table(Vec<String>, Vec<Vec<String>>),
    Code(String),
    /// A plot: its caption, the PNG relative to the report, the SVG to inline.
    Plot(String, String, PathBuf),
}

#[derive(Default)]
struct Doc(Vec<Block>);

impl Doc {
    fn h(&mut self, level: u8, text: impl Into<String>) {
        self.0.push(Block::Heading(level, text.into()));
    }
    fn p(&mut self, text: impl Into<String>) {
        self.0.push(Block::Text(text.into()));
    }
    fn table(&mut self, head: &[&str], rows: Vec<Vec<String>>) {
        let head = head.iter().map(|h| h.to_string()).collect();
        self.0.push(Block::Table(head, rows));
    }

    fn markdown(&self) -> String {
        let mut md = String::new();
        let cell = |c: &str| c.replace('|', "\\|").replace('\n', " ");
        for block in &self.0 {
            match block {
                Block::Heading(l, t) => md += &format!("{} {t}\n\n", "#".repeat(*l as usize)),
                Block::Text(t) => md += &format!("{t}\n\n"),
                Block::Table(head, rows) => {
                    let row = |r: &[String]| {
                        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
                        format!("| {} |\n", cells.join(" | "))
                    };
                    md += &row(head);
                    md += &format!("|{}\n", " --- |".repeat(head.len()));
                    rows.iter().for_each(|r| md += &row(r));
                    md.push('\n');
                }
                Block::Code(c) => {
                    let fence = "`".repeat(longest_run(c, '`').max(2) + 1);
                    md += &format!("{fence}\n{}\n{fence}\n\n", c.trim_end());
                }
                Block::Plot(caption, png, _) => md += &format!("![{}]({png})\n\n", cell(caption)),
            }
        }
        md
    }

    fn html(&self, title: &str) -> Result<String, ReportError> {
        let mut h = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            escape_html(title)
        );
        for block in &self.0 {
            match block {
                Block::Heading(l, t) => h += &format!("<h{l}>{}</h{l}>\n", escape_html(t)),
                Block::Text(t) => h += &format!("<p>{}</p>\n", escape_html(t)),
                Block::Table(head, rows) => {
                    h += "<table>\n<tr>";
                    head.iter()
                        .for_each(|c| h += &format!("<th>{}</th>", escape_html(c)));
                    h += "</tr>\n";
                    for r in rows {
                        h += "<tr>";
                        r.iter()
                            .for_each(|c| h += &format!("<td>{}</td>", escape_html(c)));
                        h += "</tr>\n";
                    }
                    h += "</table>\n";
                }
                Block::Code(c) => h += &format!("<pre><code>{}</code></pre>\n", escape_html(c)),
                Block::Plot(caption, _, svg) => {
                    let _ = write!(
                        h,
                        "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                        inline_svg(svg)?,
                        escape_html(caption)
                    );
                }
            }
        }
        h += "</body>\n</html>\n";
        Ok(h)
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f2f4f7}pre{background:#f6f8fa;padding:1em;overflow-x:auto}\
figure{margin:1em 0}svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}";

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// The `<svg>` element of an SVG file, without any XML declaration or doctype before it.
pub(crate) fn inline_svg(path: &Path) -> Result<String, ReportError> {
    let text = read_text(path)?;
    let start = text
        .find("<svg")
        .ok_or_else(|| ReportError::parse(path, None, "no <svg> element"))?;
    Ok(text[start..].trim_end().to_string())
}

/// A JSON scalar as a table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(fmt_num).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// `[key, value]` rows of the scalar fields of a JSON object (`prefix` before each key).
fn scalar_rows(v: Option<&Value>, prefix: &str) -> Vec<Vec<String>> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, v)| vec![format!("{prefix}{k}"), cell(v)])
        .collect()
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "—".into())
}

/// A file size for people.
fn size(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.2} GB", b / 1e9),
    }
}

/// Whether any of `outputs` is missing or older than one of `inputs`.
fn stale(outputs: &[PathBuf], inputs: &[PathBuf]) -> bool {
    let time = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_input = inputs.iter().filter_map(time).max();
    outputs.iter().any(|o| match (time(o), newest_input) {
        (None, _) => true,
        (Some(t), Some(i)) => t < i,
        (Some(_), None) => false,
    })
}

/// Writes `run_dir/report.md` and `run_dir/report.html` (each through a temporary file and a
/// rename) and returns their paths.
///
/// `run_dir` is a `lopper search` output folder (it has a `front.json`) or a pipeline folder
/// with any of `pipeline.toml`, `train/`, `search/`, `selected.json`, `export/` and `eval.json`
/// (at least `train/` or `search/`; else [`ReportError::NotARun`]). Plots that are missing or
/// older than their data are drawn first (`search/plots/`, `train/plots/loss.*`).
pub fn write_report(run_dir: &Path) -> Result<(PathBuf, PathBuf), ReportError> {
    let name = run_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run_dir.display().to_string());
    let mut doc = Doc::default();
    let title;
    if run_dir.join("front.json").is_file() {
        title = format!("lopper search report: {name}");
        doc.h(1, &title);
        search_section(&mut doc, run_dir, "")?;
    } else {
        let (train, search) = (run_dir.join("train"), run_dir.join("search"));
        if !train.is_dir() && !search.is_dir() {
            return Err(ReportError::NotARun {
                path: run_dir.to_path_buf(),
            });
        }
        title = format!("lopper pipeline report: {name}");
        doc.h(1, &title);
        let config = run_dir.join("pipeline.toml");
        if config.is_file() {
            doc.h(2, "Configuration");
            doc.0.push(Block::Code(read_text(&config)?));
        }
        if train.is_dir() {
            train_section(&mut doc, &train)?;
        }
        let mut objectives = Vec::new();
        if search.join("front.json").is_file() {
            doc.h(2, "Search");
            objectives = search_section(&mut doc, &search, "search/")?;
        } else if search.is_dir() {
            doc.h(2, "Search");
            doc.p("search/ has no front.json: the search has not finished.");
        }
        let selected = run_dir.join("selected.json");
        if selected.is_file() {
            selected_section(&mut doc, &selected, &objectives)?;
        }
        export_section(&mut doc, run_dir)?;
    }
    let md_path = run_dir.join("report.md");
    let html_path = run_dir.join("report.html");
    let html = doc.html(&title)?;
    write_atomic(&md_path, doc.markdown().as_bytes())?;
    write_atomic(&html_path, html.as_bytes())?;
    Ok((md_path, html_path))
}

/// The front, hypervolume, trial count and plots of a search folder; returns its objectives.
fn search_section(doc: &mut Doc, dir: &Path, rel: &str) -> Result<Vec<Objective>, ReportError> {
    let front_path = dir.join("front.json");
    let front: Front = read_json(&front_path)?;
    let trials_path = dir.join("trials.jsonl");
    let hv_path = dir.join("hypervolume.csv");
    let mut facts = Vec::new();
    if trials_path.is_file() {
        let trials = read_jsonl(&trials_path)?;
        let failed = trials
            .iter()
            .filter(|t| {
                t.get("values")
                    .and_then(Value::as_array)
                    .is_none_or(|v| v.iter().any(|x| !x.is_number()))
            })
            .count();
        facts.push(format!("{} trials ({failed} failed)", trials.len()));
    }
    facts.push(format!("{} on the Pareto front", front.front.len()));
    if hv_path.is_file()
        && let Some(hv) = read_hypervolume(&hv_path)?.last()
    {
        let reference = match &front.reference_point {
            Some(r) => r.iter().map(|v| fmt_num(*v)).collect::<Vec<_>>().join(", "),
            None => "—".into(),
        };
        facts.push(format!(
            "final hypervolume {} (reference point {reference})",
            fmt_num(*hv)
        ));
    }
    doc.p(format!("{}.", facts.join("; ")));
    if let Some(full) = &front.full {
        let mut parts: Vec<String> = front
            .objectives
            .iter()
            .zip(&full.values)
            .map(|(o, v)| format!("{} {}", o.name, opt(*v)))
            .collect();
        if let Some(t) = full.test_error {
            parts.push(format!("test error {}", fmt_num(t)));
        }
        doc.p(format!("The full model: {}.", parts.join(", ")));
    }
    let with_test = front.front.iter().any(|m| m.test_error.is_some());
    let labels: Vec<String> = front.objectives.iter().map(Objective::label).collect();
    let mut head = vec!["id", "sub-network"];
    head.extend(labels.iter().map(String::as_str));
    if with_test {
        head.push("test error");
    }
    let rows = front
        .front
        .iter()
        .map(|m| {
            let mut row = vec![
                opt(m.id.map(|i| i as f64)),
                m.summary.clone().unwrap_or_default(),
            ];
            row.extend((0..labels.len()).map(|i| opt(m.values.get(i).copied().flatten())));
            if with_test {
                row.push(opt(m.test_error));
            }
            row
        })
        .collect();
    doc.table(&head, rows);

    let plots = dir.join("plots");
    let mut wanted = Vec::new();
    if front.objectives.len() >= 2 {
        wanted.push(("front", "The trials and the Pareto front"));
    }
    if hv_path.is_file() {
        wanted.push(("hypervolume", "Hypervolume over the evaluations"));
    }
    let outputs: Vec<PathBuf> = wanted
        .iter()
        .flat_map(|(n, _)| ["svg", "png"].map(|e| with_ext(&plots.join(n), e)))
        .collect();
    if stale(&outputs, &[front_path, trials_path, hv_path])
        && let Err(e) = search_plots(dir)
    {
        // Without a font the tables still make a report.
        no_plots(doc, e)?;
        return Ok(front.objectives);
    }
    for (n, caption) in wanted {
        let svg = with_ext(&plots.join(n), "svg");
        doc.0.push(Block::Plot(
            caption.into(),
            format!("{rel}plots/{n}.png"),
            svg,
        ));
    }
    Ok(front.objectives)
}

/// Notes a plot left out for want of a font; any other error stands.
fn no_plots(doc: &mut Doc, e: ReportError) -> Result<(), ReportError> {
    match e {
        ReportError::NoFont { .. } => {
            doc.p(format!("(Plots left out: {e}.)"));
            Ok(())
        }
        other => Err(other),
    }
}

/// Training settings, validation per epoch, the loss plot and the test scores.
fn train_section(doc: &mut Doc, train: &Path) -> Result<(), ReportError> {
    doc.h(2, "Training");
    let settings = train.join("train.json");
    if settings.is_file() {
        let v: Value = read_json(&settings)?;
        // `lopper train`'s train.json: what the command recorded (`meta`), the trainer's
        // settings (`fit.train`, its strategy's, the rest of `fit`) and the sizes.
        let fit = v.get("fit");
        let train_cfg = fit.and_then(|f| f.get("train"));
        let mut rows = scalar_rows(v.get("meta"), "");
        rows.extend(scalar_rows(train_cfg, ""));
        rows.extend(scalar_rows(
            train_cfg.and_then(|t| t.get("strategy_config")),
            "",
        ));
        rows.extend(scalar_rows(fit, ""));
        rows.extend(scalar_rows(Some(&v), ""));
        doc.table(&["setting", "value"], rows);
    }
    let metrics = train.join("metrics.jsonl");
    if metrics.is_file() {
        let lines = read_jsonl(&metrics)?;
        let kind = |l: &&Value, k: &str| l.get("kind").and_then(Value::as_str) == Some(k);
        let validations: Vec<&Value> = lines.iter().filter(|l| kind(l, "validation")).collect();
        let mut roles: Vec<String> = Vec::new();
        let scores = |v: &Value| -> Vec<(String, Option<f64>)> {
            let list = v.get("scores").and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .map(|s| {
                    let role = s.get("role").and_then(Value::as_str).unwrap_or("score");
                    (role.to_string(), s.get("score").and_then(Value::as_f64))
                })
                .collect()
        };
        for v in &validations {
            for (role, _) in scores(v) {
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
        }
        if !validations.is_empty() {
            let metric = validations[0].get("metric").and_then(Value::as_str);
            doc.h(
                3,
                format!("Validation per epoch ({})", metric.unwrap_or("score")),
            );
            let mut head = vec!["epoch", "step"];
            head.extend(roles.iter().map(String::as_str));
            let rows = validations
                .iter()
                .map(|v| {
                    let s = scores(v);
                    // The log counts epochs from 0; people from 1.
                    let epoch = v["epoch"].as_u64().map_or(Value::Null, |e| (e + 1).into());
                    let mut row = vec![cell(&epoch), cell(&v["step"])];
                    row.extend(
                        roles
                            .iter()
                            .map(|r| opt(s.iter().find(|(role, _)| role == r).and_then(|x| x.1))),
                    );
                    row
                })
                .collect();
            doc.table(&head, rows);
        }
        let steps: Vec<(f64, f64)> = lines
            .iter()
            .filter(|l| kind(l, "step"))
            .filter_map(|l| Some((l.get("step")?.as_f64()?, l.get("loss")?.as_f64()?)))
            .collect();
        if !steps.is_empty() {
            let base = train.join("plots").join("loss");
            let outputs = [with_ext(&base, "svg"), with_ext(&base, "png")];
            let drawn = if stale(&outputs, std::slice::from_ref(&metrics)) {
                plot_loss(&base, &steps, LOSS_WINDOW).map(|_| ())
            } else {
                Ok(())
            };
            match drawn {
                Ok(()) => {
                    let caption = format!("Training loss ({} steps)", steps.len());
                    let [svg, _] = outputs;
                    doc.0
                        .push(Block::Plot(caption, "train/plots/loss.png".into(), svg));
                }
                Err(e) => no_plots(doc, e)?,
            }
        }
    }
    let test = train.join("test.json");
    if test.is_file() {
        let v: Value = read_json(&test)?;
        doc.h(3, "Test scores");
        let rows = v
            .as_object()
            .into_iter()
            .flatten()
            .map(|(member, s)| {
                let f = |k: &str| s.get(k).map(cell).unwrap_or_default();
                vec![member.clone(), f("metric"), f("score"), f("subnet")]
            })
            .collect();
        doc.table(&["member", "metric", "score", "sub-network"], rows);
    }
    Ok(())
}

/// The front member chosen by `lopper select`.
fn selected_section(
    doc: &mut Doc,
    path: &Path,
    objectives: &[Objective],
) -> Result<(), ReportError> {
    let v: Value = read_json(path)?;
    let m: Member =
        serde_json::from_value(v.clone()).map_err(|e| ReportError::parse(path, None, e))?;
    doc.h(2, "Selected sub-network");
    let mut rows = vec![
        vec!["id".into(), opt(m.id.map(|i| i as f64))],
        vec!["sub-network".into(), m.summary.clone().unwrap_or_default()],
    ];
    for (i, value) in m.values.iter().enumerate() {
        let name = objectives
            .get(i)
            .map(Objective::label)
            .unwrap_or_else(|| format!("objective {}", i + 1));
        rows.push(vec![name, opt(*value)]);
    }
    if m.test_error.is_some() {
        rows.push(vec!["test error".into(), opt(m.test_error)]);
    }
    let shown = ["id", "summary", "values", "test_error"];
    rows.extend(
        scalar_rows(Some(&v), "")
            .into_iter()
            .filter(|r| !shown.contains(&r[0].as_str())),
    );
    doc.table(&["field", "value"], rows);
    Ok(())
}

/// The exported model folder and its evaluation.
fn export_section(doc: &mut Doc, run_dir: &Path) -> Result<(), ReportError> {
    let (export, eval) = (run_dir.join("export"), run_dir.join("eval.json"));
    if !export.is_dir() && !eval.is_file() {
        return Ok(());
    }
    doc.h(2, "Exported model");
    if eval.is_file() {
        let v: Value = read_json(&eval)?;
        let mut rows = scalar_rows(Some(&v), "");
        rows.extend(scalar_rows(v.get("latency_ms"), "latency (ms) "));
        doc.table(&["field", "value"], rows);
    }
    if export.is_dir() {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&export).map_err(|e| ReportError::io(&export, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ReportError::io(&export, e))?;
            let meta = entry
                .metadata()
                .map_err(|e| ReportError::io(&entry.path(), e))?;
            if meta.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.push(vec![name, size(meta.len())]);
            }
        }
        files.sort();
        doc.p("The model folder export/ holds:");
        doc.table(&["file", "size"], files);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_and_html_escape() {
        let mut d = Doc::default();
        d.h(2, "A <b>");
        d.table(&["a|b"], vec![vec!["x\ny & z".into()]]);
        d.0.push(Block::Code("```\n<tag>".into()));
        let md = d.markdown();
        assert!(md.contains("| a\\|b |\n| --- |\n| x y & z |"), "{md}");
        assert!(md.contains("````\n```\n<tag>\n````"), "{md}");
        let html = d.html("t<").unwrap();
        assert!(html.contains("<h2>A &lt;b&gt;</h2>") && html.contains("<td>x\ny &amp; z</td>"));
        assert!(html.contains("<title>t&lt;</title>") && html.contains("&lt;tag&gt;"));
    }

    #[test]
    fn svg_loses_its_declaration() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.svg");
        std::fs::write(&p, "<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>\n").unwrap();
        assert_eq!(inline_svg(&p).unwrap(), "<svg width=\"1\"></svg>");
    }
}
