//! A small document model, rendered both as Markdown and as one self-contained HTML page.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{ReportError, escape_html};

/// A block of a document.
pub enum Block {
    /// A heading: its level and text.
    Heading(u8, String),
    /// A paragraph.
    Text(String),
    /// A table: the header and the rows.
    Table(Vec<String>, Vec<Vec<String>>),
    /// Preformatted text.
    Code(String),
    /// A plot: its caption, the PNG relative to the report, the SVG to inline.
    Plot(String, String, PathBuf),
}

/// A document: blocks in order.
#[derive(Default)]
pub struct Doc(pub Vec<Block>);

impl Doc {
    /// A heading of `level`.
    pub fn h(&mut self, level: u8, text: impl Into<String>) {
        self.0.push(Block::Heading(level, text.into()));
    }
    /// A paragraph.
    pub fn p(&mut self, text: impl Into<String>) {
        self.0.push(Block::Text(text.into()));
    }
    /// A table.
    pub fn table(&mut self, head: &[&str], rows: Vec<Vec<String>>) {
        let head = head.iter().map(|h| h.to_string()).collect();
        self.0.push(Block::Table(head, rows));
    }

    /// The document as Markdown (plots as links to their PNG files).
    pub fn markdown(&self) -> String {
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

    /// The document as one HTML page (plots inlined as SVG).
    pub fn html(&self, title: &str) -> Result<String, ReportError> {
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
pub fn inline_svg(path: &Path) -> Result<String, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    let start = text
        .find("<svg")
        .ok_or_else(|| ReportError::parse(path, None, "no <svg> element"))?;
    Ok(text[start..].trim_end().to_string())
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
