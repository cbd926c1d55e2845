//! The plots: a chart model small enough for lopper's needs, drawn on SVG and PNG backends.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{ReportError, load_font, write_atomic};

/// Width and height of every plot, in pixels.
const SIZE: (u32, u32) = (800, 600);
const TRIAL: RGBColor = RGBColor(160, 178, 204);
const FRONT: RGBColor = RGBColor(31, 119, 180);
const EXTRA: RGBColor = RGBColor(230, 110, 10);

/// What [`plot_front`] draws: every trial, the Pareto front and optionally a second set of
/// points (such as the front scored on the test set). Points are `(x, y)`; non-finite ones are
/// left out.
#[derive(Debug, Clone, Default)]
pub struct FrontPlot {
    /// The title above the plot.
    pub title: String,
    /// The x axis label, e.g. `params (fraction)`.
    pub x_label: String,
    /// The y axis label, e.g. `error (fraction)`.
    pub y_label: String,
    /// Every trial, drawn as small light dots.
    pub trials: Vec<(f64, f64)>,
    /// The Pareto front, drawn as larger points joined by a step line (in x order).
    pub front: Vec<(f64, f64)>,
    /// A named extra set of points with its own marker and legend entry.
    pub extra: Option<(String, Vec<(f64, f64)>)>,
}

#[derive(Clone, Copy)]
enum Mark {
    Dots(u32),
    Triangles(u32),
    Line(u32),
    /// Separate segments: the points taken in pairs (error bars).
    Segments(u32),
}

/// Colours of the curves of [`plot_curves`], in order (matplotlib's tab10).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
const LEVEL: RGBColor = RGBColor(120, 120, 120);

/// One curve of [`plot_curves`]: points `(x, mean, standard deviation)`, drawn as a line
/// through the means with error bars of ± one standard deviation (none where it is 0).
#[derive(Debug, Clone, Default)]
pub struct Curve {
    /// Its legend entry.
    pub label: String,
    /// `(x, mean, sd)`, drawn in x order.
    pub points: Vec<(f64, f64, f64)>,
}

/// What [`plot_curves`] draws: curves with error bars and horizontal reference levels (such
/// as the unpruned model's performance and shares of it).
#[derive(Debug, Clone, Default)]
pub struct CurvesPlot {
    /// The title above the plot.
    pub title: String,
    /// The x axis label.
    pub x_label: String,
    /// The y axis label.
    pub y_label: String,
    /// The curves, each in its own colour.
    pub curves: Vec<Curve>,
    /// Horizontal lines `(label, y)` across the plot.
    pub levels: Vec<(String, f64)>,
}

/// Draws curves with error bars and horizontal levels to `out_base.svg` and `out_base.png`
/// (800×600); returns the two paths.
pub fn plot_curves(out_base: &Path, spec: &CurvesPlot) -> Result<Vec<PathBuf>, ReportError> {
    let mut series = Vec::new();
    let xs = || {
        spec.curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0))
    };
    let (x0, x1) = xs().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let mut texts = Vec::new();
    if x0 <= x1 {
        for (label, y) in &spec.levels {
            series.push(Series::new(
                None,
                &[(x0, *y), (x1, *y)],
                Mark::Line(1),
                LEVEL,
            ));
            // Named at its left end, above the line.
            texts.push((label.clone(), (x0, *y)));
        }
    }
    for (i, curve) in spec.curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut pts = curve.points.clone();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let means: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
        let bars: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.2 > 0.0)
            .flat_map(|&(x, m, sd)| [(x, m - sd), (x, m + sd)])
            .collect();
        series.push(Series::new(
            Some(curve.label.clone()),
            &means,
            Mark::Line(2),
            color,
        ));
        series.push(Series::new(None, &means, Mark::Dots(4), color));
        series.push(Series::new(None, &bars, Mark::Segments(1), color));
    }
    render(
        out_base,
        &Chart {
            title: &spec.title,
            x_label: &spec.x_label,
            y_label: &spec.y_label,
            series,
            texts,
        },
    )
}

struct Series {
    label: Option<String>,
    points: Vec<(f64, f64)>,
    mark: Mark,
    color: RGBColor,
}

impl Series {
    fn new(label: Option<String>, points: &[(f64, f64)], mark: Mark, color: RGBColor) -> Self {
        let points = points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        Self {
            label,
            points,
            mark,
            color,
        }
    }
}

struct Chart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: Vec<Series>,
    /// Labels drawn at data coordinates.
    texts: Vec<(String, (f64, f64))>,
}

/// Draws the trials and the Pareto front of a search to `out_base.svg` and `out_base.png`
/// (800×600); returns the two paths. Creates the parent folder when needed.
pub fn plot_front(out_base: &Path, spec: &FrontPlot) -> Result<Vec<PathBuf>, ReportError> {
    let mut trials = Series::new(None, &spec.trials, Mark::Dots(3), TRIAL);
    trials.label = Some(format!("all trials ({})", trials.points.len()));
    let mut front = Series::new(None, &spec.front, Mark::Dots(5), FRONT);
    front.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    front.label = Some(format!("Pareto front ({})", front.points.len()));
    // The attainment line: right at the height of a point, then down to the next.
    let mut steps = Vec::new();
    for (i, &p) in front.points.iter().enumerate() {
        if i > 0 {
            steps.push((p.0, front.points[i - 1].1));
        }
        steps.push(p);
    }
    let mut series = vec![
        trials,
        Series::new(None, &steps, Mark::Line(2), FRONT),
        front,
    ];
    if let Some((label, points)) = &spec.extra {
        series.push(Series::new(
            Some(label.clone()),
            points,
            Mark::Triangles(6),
            EXTRA,
        ));
    }
    render(
        out_base,
        &Chart {
            title: &spec.title,
            x_label: &spec.x_label,
            y_label: &spec.y_label,
            series,
            texts: Vec::new(),
        },
    )
}

/// Draws a hypervolume trace (the hypervolume after evaluation 1, 2, …) as a line to
/// `out_base.svg` and `out_base.png` (800×600); returns the two paths.
pub fn plot_hypervolume(
    out_base: &Path,
    title: &str,
    trace: &[f64],
) -> Result<Vec<PathBuf>, ReportError> {
    let points: Vec<(f64, f64)> = (1..).map(f64::from).zip(trace.iter().copied()).collect();
    let mut series = vec![Series::new(None, &points, Mark::Line(2), FRONT)];
    if points.len() <= 60 {
        series.push(Series::new(None, &points, Mark::Dots(3), FRONT));
    }
    render(
        out_base,
        &Chart {
            title,
            x_label: "evaluations",
            y_label: "hypervolume",
            series,
            texts: Vec::new(),
        },
    )
}

/// Draws the training loss per step (light) and its moving average over `window` steps.
pub fn plot_loss(
    out_base: &Path,
    steps: &[(f64, f64)],
    window: usize,
) -> Result<Vec<PathBuf>, ReportError> {
    let steps: Vec<(f64, f64)> = steps.iter().copied().filter(|p| p.1.is_finite()).collect();
    let losses: Vec<f64> = steps.iter().map(|p| p.1).collect();
    let average: Vec<(f64, f64)> = steps
        .iter()
        .zip(moving_average(&losses, window))
        .map(|(p, m)| (p.0, m))
        .collect();
    render(
        out_base,
        &Chart {
            title: "Training loss",
            x_label: "step",
            y_label: "loss",
            texts: Vec::new(),
            series: vec![
                Series::new(Some("loss".into()), &steps, Mark::Line(1), TRIAL),
                Series::new(
                    Some(format!("moving average ({window} steps)")),
                    &average,
                    Mark::Line(2),
                    FRONT,
                ),
            ],
        },
    )
}

/// The trailing moving average: the mean of the last `window` values up to each position.
pub(crate) fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut sum = 0.0;
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

/// `base` with `.ext` appended (not replacing what follows a dot in the file name).
pub fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn render(out_base: &Path, chart: &Chart) -> Result<Vec<PathBuf>, ReportError> {
    load_font()?;
    if let Some(parent) = out_base.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ReportError::io(parent, e))?;
    }
    let svg_path = with_ext(out_base, "svg");
    let png_path = with_ext(out_base, "png");
    let failed = |path: &Path, e: String| ReportError::Plot(format!("{}: {e}", path.display()));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| failed(&svg_path, e))?;
        root.present()
            .map_err(|e| failed(&svg_path, e.to_string()))?;
    }
    write_atomic(&svg_path, svg.as_bytes())?;

    // Rendered beside the target and renamed into place; the image encoder goes by extension.
    let tmp = with_ext(out_base, "tmp.png");
    {
        let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| failed(&png_path, e))?;
        root.present()
            .map_err(|e| failed(&png_path, e.to_string()))?;
    }
    std::fs::rename(&tmp, &png_path).map_err(|e| ReportError::io(&png_path, e))?;
    Ok(vec![svg_path, png_path])
}

/// The range of the axis over `values`, padded by 5 % (or around a single value).
fn axis_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = match hi - lo {
        span if span > 0.0 => span * 0.05,
        _ if lo != 0.0 => lo.abs() * 0.1,
        _ => 1.0,
    };
    (lo - pad, hi + pad)
}

/// A tick label: whole numbers without decimals, others as short as they print.
fn tick(v: f64) -> String {
    match v {
        v if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        v if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-3) => format!("{v:.2e}"),
        v => format!("{}", (v * 1e6).round() / 1e6),
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    fn s(e: impl Display) -> String {
        e.to_string()
    }
    root.fill(&WHITE).map_err(s)?;
    let all = || chart.series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = axis_range(all().map(|p| p.0));
    let (y0, y1) = axis_range(all().map(|p| p.1));
    let mut c = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(s)?;
    c.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 17))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(s)?;
    for series in &chart.series {
        let (color, pts) = (series.color, series.points.iter().copied());
        let anno = match series.mark {
            Mark::Dots(r) => c.draw_series(pts.map(|p| Circle::new(p, r, color.filled()))),
            Mark::Triangles(r) => {
                c.draw_series(pts.map(|p| TriangleMarker::new(p, r, color.filled())))
            }
            Mark::Line(w) => c.draw_series(LineSeries::new(pts, color.stroke_width(w))),
            Mark::Segments(w) => c.draw_series(
                series
                    .points
                    .chunks_exact(2)
                    .map(|p| PathElement::new(vec![p[0], p[1]], color.stroke_width(w))),
            ),
        }
        .map_err(s)?;
        if let Some(label) = &series.label {
            let mark = series.mark;
            anno.label(label.as_str()).legend(move |(x, y)| match mark {
                Mark::Dots(r) => Circle::new((x + 10, y), r, color.filled()).into_dyn(),
                Mark::Triangles(r) => {
                    TriangleMarker::new((x + 10, y), r, color.filled()).into_dyn()
                }
                Mark::Line(w) | Mark::Segments(w) => {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(w)).into_dyn()
                }
            });
        }
    }
    for (text, at) in &chart.texts {
        c.draw_series(std::iter::once(Text::new(
            text.clone(),
            *at,
            ("sans-serif", 13).into_font().color(&LEVEL),
        )))
        .map_err(s)?;
    }
    if chart.series.iter().any(|s| s.label.is_some()) {
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(s)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_is_trailing() {
        let m = moving_average(&[1.0, 3.0, 5.0, 7.0], 2);
        assert_eq!(m, vec![1.0, 2.0, 4.0, 6.0]);
        assert_eq!(moving_average(&[2.0, 4.0], 50), vec![2.0, 3.0]);
        assert_eq!(moving_average(&[5.0], 0), vec![5.0]);
        assert!(moving_average(&[], 3).is_empty());
    }

    #[test]
    fn axis_ranges_are_padded() {
        assert_eq!(axis_range([0.0, 10.0].into_iter()), (-0.5, 10.5));
        assert_eq!(axis_range([2.0].into_iter()), (1.8, 2.2));
        assert_eq!(axis_range([0.0].into_iter()), (-1.0, 1.0));
        assert_eq!(axis_range(std::iter::empty()), (0.0, 1.0));
    }

    #[test]
    fn curves_are_drawn_with_their_labels_and_levels() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let spec = CurvesPlot {
            title: "MRPC".into(),
            x_label: "fraction pruned".into(),
            y_label: "F1".into(),
            curves: vec![
                Curve {
                    label: "rfp".into(),
                    points: vec![(0.5, 0.80, 0.01), (0.1, 0.88, 0.0)],
                },
                Curve {
                    label: "ws-nas".into(),
                    points: vec![(0.1, 0.86, 0.02)],
                },
            ],
            levels: vec![("y*".into(), 0.88), ("0.95 y*".into(), 0.836)],
        };
        let base = dir.path().join("plots").join("curves");
        let paths = plot_curves(&base, &spec).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(paths.len(), 2);
        let svg = std::fs::read_to_string(&paths[0]).unwrap_or_else(|e| panic!("{e}"));
        for text in ["rfp", "ws-nas", "y*", "0.95 y*", "fraction pruned"] {
            assert!(svg.contains(text), "{text} not drawn");
        }
        assert!(paths[1].is_file());
    }

    #[test]
    fn extensions_are_appended() {
        assert_eq!(
            with_ext(Path::new("a/b.v1"), "svg"),
            PathBuf::from("a/b.v1.svg")
        );
    }
}
