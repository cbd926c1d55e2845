//! Plots and the document model of lopper's reports.
//!
//! - **plots**, each as an SVG and an 800×600 PNG drawn with [plotters]: [`plot_front`] (every
//!   trial, the Pareto front as a step line and optionally a second set such as the front on
//!   the test set), [`plot_hypervolume`] (hypervolume over evaluations), [`plot_loss`] (a
//!   training loss with its moving average) and [`plot_curves`] (curves of means with error
//!   bars and labelled horizontal levels, such as performance against the fraction pruned);
//! - **documents** ([`Doc`]): headings, paragraphs, tables, code and plots, rendered as
//!   Markdown that links the PNG plots and as one self-contained HTML page (inline CSS, the SVG
//!   plots inlined, no scripts, no external references).
//!
//! What goes into a report of a run folder is `lopper-pipeline`'s, which reads the run's
//! typed records. Text in plots needs a TrueType font, found at run time by [`load_font`]:
//! the file named by the environment variable `LOPPER_FONT`, else a common system font
//! (DejaVu Sans, Liberation Sans, FreeSans, Arial). The plotting functions call it themselves.
//!
//! Every failure is a [`ReportError`] that names the file it concerns.

use std::path::{Path, PathBuf};

mod doc;
mod font;
mod plot;

pub use doc::{Block, Doc, inline_svg};
pub use font::load_font;
pub use plot::{
    Curve, CurvesPlot, FrontPlot, plot_curves, plot_front, plot_hypervolume, plot_loss, with_ext,
};

/// What can go wrong while reading a run folder or writing plots and reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line (1-based), when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// No font for the text in plots.
    #[error(
        "no TrueType font found for the plots (tried: {}); install one (Debian: `apt-get install fonts-dejavu-core`) or set LOPPER_FONT to a .ttf/.otf file",
        .tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoFont {
        /// The paths looked at.
        tried: Vec<PathBuf>,
    },
    /// Drawing a plot failed (the message names the file).
    #[error("plot: {0}")]
    Plot(String),
}

impl ReportError {
    /// An io error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parse(path: &Path, line: Option<usize>, message: impl ToString) -> Self {
        Self::Parse {
            path: path.to_path_buf(),
            line,
            message: message.to_string(),
        }
    }
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    lopper_core::fs::write_atomic(path, bytes).map_err(|e| ReportError::io(path, e))
}

/// HTML-escapes text for element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for people: integers whole, tiny values in scientific notation, else 4 decimals.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        v.to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape_html("plain ü"), "plain ü");
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(fmt_num(16664264.0), "16664264");
        assert_eq!(fmt_num(0.41015625), "0.4102");
        assert_eq!(fmt_num(2e-5), "2.000e-5");
        assert_eq!(fmt_num(0.0), "0");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = ReportError::parse(Path::new("/r/x.jsonl"), Some(3), "bad");
        assert_eq!(e.to_string(), "/r/x.jsonl line 3: bad");
        let e = ReportError::NoFont {
            tried: vec!["/a.ttf".into()],
        };
        assert!(e.to_string().contains("/a.ttf") && e.to_string().contains("fonts-dejavu-core"));
    }
}
