//! Tables made from the committed results, never edited by hand: per task, the test
//! performance each method reaches at each retained fraction under the paper's selection rule,
//! and on how many tasks each method keeps 95 % and 90 % of the unpruned model's performance.

use std::fmt::Write as _;

use lopper::data::TaskSource;

use crate::methods::Method;
use crate::results::{Row, RowKind};
use crate::scale::Scale;

/// Mean and sample standard deviation (0 for one value) of `xs`; `None` when empty.
fn mean_sd(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((mean, var.sqrt()))
}

/// The paper's selection rule on one unit's rows: among the sub-networks whose encoder
/// fraction is at most `t`, the one with the lowest validation error (ties: the smaller one);
/// its test performance (1 − test error).
pub fn select(rows: &[&Row], t: f64) -> Option<f64> {
    rows.iter()
        .filter(|r| r.encoder_params <= t + 1e-9 && r.test_error.is_some())
        .min_by(|a, b| {
            a.validation_error
                .total_cmp(&b.validation_error)
                .then(a.encoder_params.total_cmp(&b.encoder_params))
        })
        .and_then(|r| r.test_error.map(|e| 1.0 - e))
}

/// The unpruned model's test performance per seed: the `standard` fine-tuning's, as RFP's
/// or HP's unit recorded it.
fn unpruned(rows: &[Row], task: &TaskSource) -> Vec<(u64, f64)> {
    let mut out: Vec<(u64, f64)> = Vec::new();
    for r in rows.iter().filter(|r| {
        r.task == *task && r.kind == RowKind::Full && matches!(r.method, Method::Rfp | Method::Hp)
    }) {
        if let Some(e) = r.test_error
            && !out.iter().any(|(s, _)| *s == r.seed)
        {
            out.push((r.seed, 1.0 - e));
        }
    }
    out.sort_by_key(|(s, _)| *s);
    out
}

/// Per method: the mean (± sd) performance at each fraction over the seeds that reach it.
struct MethodLine {
    method: Method,
    at: Vec<Option<(f64, f64, usize)>>,
    seconds: Option<f64>,
    seeds: usize,
}

fn lines(rows: &[Row], task: &TaskSource, fractions: &[f64]) -> Vec<MethodLine> {
    let mut out = Vec::new();
    for method in Method::ALL {
        let of: Vec<&Row> = rows
            .iter()
            .filter(|r| r.task == *task && r.method == method)
            .collect();
        let mut seeds: Vec<u64> = of.iter().map(|r| r.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        if seeds.is_empty() {
            continue;
        }
        let at = fractions
            .iter()
            .map(|&t| {
                let per_seed: Vec<f64> = seeds
                    .iter()
                    .filter_map(|&s| {
                        let unit: Vec<&Row> = of.iter().copied().filter(|r| r.seed == s).collect();
                        select(&unit, t)
                    })
                    .collect();
                mean_sd(&per_seed).map(|(m, sd)| (m, sd, per_seed.len()))
            })
            .collect();
        let seconds: Vec<f64> = seeds
            .iter()
            .filter_map(|&s| of.iter().find(|r| r.seed == s).map(|r| r.seconds))
            .collect();
        out.push(MethodLine {
            method,
            at,
            seconds: mean_sd(&seconds).map(|(m, _)| m),
            seeds: seeds.len(),
        });
    }
    out
}

/// On how many tasks a method keeps 95 % and 90 % of y* at one fraction, out of `tasks`.
#[derive(Debug, Clone, Copy, Default)]
struct Kept {
    at_95: usize,
    at_90: usize,
    tasks: usize,
}

fn cell(v: Option<(f64, f64, usize)>, seeds: usize) -> String {
    match v {
        None => "—".into(),
        Some((m, _, 1)) if seeds == 1 => format!("{m:.4}"),
        Some((m, sd, n)) if n == seeds => format!("{m:.4} ± {sd:.4}"),
        Some((m, sd, n)) => format!("{m:.4} ± {sd:.4} ({n} of {seeds} seeds)"),
    }
}

fn minutes(s: Option<f64>) -> String {
    s.map_or_else(|| "—".into(), |s| format!("{:.1}", s / 60.0))
}

/// The figure of one task: test performance against the fraction of the encoder pruned, a
/// curve per method (mean ± sd over seeds), with y*, 0.95 y* and 0.90 y*.
pub struct Figure {
    /// The task.
    pub task: TaskSource,
    /// Its file name without extension (`methods-<scale>-<task>`).
    pub name: String,
    /// What to draw.
    pub plot: lopper::report::CurvesPlot,
}

/// The Markdown report of the methods study at `scale` over `rows` (every task present) and
/// its figures (the report links them as `<name>.svg`).
pub fn methods(rows: &[Row], scale: Scale) -> (String, Vec<Figure>) {
    let rows: Vec<Row> = rows.iter().filter(|r| r.scale == scale).cloned().collect();
    let fractions = scale.settings().fractions;
    let mut tasks: Vec<TaskSource> = Vec::new();
    for r in &rows {
        if !tasks.contains(&r.task) {
            tasks.push(r.task.clone());
        }
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Study 1: pruning methods ({scale} scale)\n");
    let _ = writeln!(
        md,
        "Made by `paper report` from `methods.csv`; do not edit. Test performance (1 − test \
         error: F1 for MRPC, Spearman for STS-B, accuracy otherwise) of the sub-network the \
         paper's rule selects: among those a method produced whose **encoder** parameter \
         fraction is at most the column's, the one with the lowest validation error. Mean ± \
         standard deviation over seeds; — where the method has no such sub-network. Minutes: \
         the wall-clock time of the method's unit as it ran, fine-tuning included (RFP's unit \
         runs the `standard` fine-tuning that HP and LD then reuse; a unit killed and resumed \
         counts every run).\n"
    );
    let mut settings: Vec<&str> = rows.iter().map(|r| r.settings.as_str()).collect();
    settings.sort_unstable();
    settings.dedup();
    let mut commits: Vec<&str> = rows.iter().map(|r| r.commit.as_str()).collect();
    commits.sort_unstable();
    commits.dedup();
    let _ = writeln!(
        md,
        "Settings: `{}`; commits: {}.\n",
        settings.join("`, `"),
        commits.join(", ")
    );

    // On how many tasks each method keeps 95 % / 90 % of y* (mean over seeds).
    let mut keeps: Vec<(Method, Vec<Kept>)> = Vec::new();
    let mut figures = Vec::new();
    for task in &tasks {
        let y = unpruned(&rows, task);
        let ys: Vec<f64> = y.iter().map(|(_, v)| *v).collect();
        let y_mean = mean_sd(&ys);
        let _ = writeln!(md, "## {task} ({})\n", task.task().metric.name());
        match y_mean {
            Some((m, sd)) => {
                let _ = writeln!(
                    md,
                    "Unpruned (`standard` fine-tuning), y* = {m:.4} ± {sd:.4} over {} seed(s).\n",
                    ys.len()
                );
            }
            None => {
                let _ = writeln!(md, "Unpruned: no RFP or HP unit yet.\n");
            }
        }
        let metric = task.task().metric.name();
        let mut plot = lopper::report::CurvesPlot {
            title: format!("{task}: test {metric} after pruning ({scale} scale)"),
            x_label: "fraction of the encoder's parameters pruned".into(),
            y_label: format!("test {metric}"),
            curves: Vec::new(),
            levels: y_mean.map_or_else(Vec::new, |(y, _)| {
                vec![
                    ("y* (unpruned)".to_string(), y),
                    ("0.95 y*".to_string(), 0.95 * y),
                    ("0.90 y*".to_string(), 0.90 * y),
                ]
            }),
        };
        let header: Vec<String> = fractions.iter().map(|f| format!("≤ {f}")).collect();
        let _ = writeln!(md, "| method | {} | minutes | seeds |", header.join(" | "));
        let _ = writeln!(md, "|---|{}---|---|", "---|".repeat(fractions.len()));
        for line in lines(&rows, task, &fractions) {
            plot.curves.push(lopper::report::Curve {
                label: line.method.to_string(),
                points: fractions
                    .iter()
                    .zip(&line.at)
                    .filter_map(|(t, v)| v.map(|(m, sd, _)| (1.0 - t, m, sd)))
                    .collect(),
            });
            let cells: Vec<String> = line.at.iter().map(|v| cell(*v, line.seeds)).collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                line.method,
                cells.join(" | "),
                minutes(line.seconds),
                line.seeds
            );
            if let Some((y, _)) = y_mean {
                let entry = match keeps.iter_mut().find(|(m, _)| *m == line.method) {
                    Some(e) => e,
                    None => {
                        keeps.push((line.method, vec![Kept::default(); fractions.len()]));
                        let last = keeps.len() - 1;
                        &mut keeps[last]
                    }
                };
                for (k, v) in entry.1.iter_mut().zip(&line.at) {
                    k.tasks += 1;
                    if let Some((m, _, _)) = v {
                        k.at_95 += usize::from(*m >= 0.95 * y);
                        k.at_90 += usize::from(*m >= 0.90 * y);
                    }
                }
            }
        }
        let name = format!("methods-{scale}-{task}");
        let _ = writeln!(md, "\n![{task}]({name}.svg)\n");
        figures.push(Figure {
            task: task.clone(),
            name,
            plot,
        });
    }
    if !keeps.is_empty() {
        let _ = writeln!(
            md,
            "## Tasks on which a method keeps ≥ 95 % / ≥ 90 % of y*\n\nOut of the tasks with \
             an unpruned model and the method's units.\n"
        );
        let header: Vec<String> = fractions.iter().map(|f| format!("≤ {f}")).collect();
        let _ = writeln!(md, "| method | {} |", header.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(fractions.len()));
        for (method, ks) in &keeps {
            let cells: Vec<String> = ks
                .iter()
                .map(|k| format!("{} / {} of {}", k.at_95, k.at_90, k.tasks))
                .collect();
            let _ = writeln!(md, "| {method} | {} |", cells.join(" | "));
        }
    }
    (md, figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: Method, kind: RowKind, enc: f64, val: f64, test: f64, seed: u64) -> Row {
        Row {
            scale: Scale::Smoke,
            task: TaskSource::MovieReviews,
            method,
            seed,
            kind,
            id: None,
            params: 0.5 + enc / 2.0,
            encoder_params: enc,
            validation_error: val,
            test_error: Some(test),
            subnet: String::new(),
            seconds: 60.0,
            commit: "c".into(),
            settings: "s".into(),
        }
    }

    #[test]
    fn selection_takes_the_lowest_validation_error_under_the_fraction() {
        let rows = [
            row(Method::Ld, RowKind::Member, 0.83, 0.10, 0.30, 0),
            row(Method::Ld, RowKind::Member, 0.50, 0.20, 0.05, 0),
            row(Method::Ld, RowKind::Member, 0.33, 0.25, 0.40, 0),
        ];
        let refs: Vec<&Row> = rows.iter().collect();
        assert_eq!(select(&refs, 0.9), Some(0.7));
        // The best test error (0.05) is not chosen at 0.9: validation decides.
        assert_eq!(select(&refs, 0.5), Some(0.95));
        assert_eq!(select(&refs, 0.4), Some(0.6));
        assert_eq!(select(&refs, 0.2), None);
    }

    #[test]
    fn the_report_has_a_line_per_method_and_counts_the_kept_share() {
        let rows = vec![
            row(Method::Hp, RowKind::Full, 1.0, 0.1, 0.2, 0),
            row(Method::Hp, RowKind::Member, 0.8, 0.1, 0.22, 0),
            row(Method::Rfp, RowKind::Member, 0.5, 0.1, 0.35, 0),
        ];
        let (md, figures) = methods(&rows, Scale::Smoke);
        assert!(md.contains("y* = 0.8000"), "{md}");
        assert!(
            md.contains("![movie-reviews](methods-smoke-movie-reviews.svg)"),
            "{md}"
        );
        // One figure per task: a curve per method over the fractions it reaches, the levels.
        assert_eq!(figures.len(), 1);
        let plot = &figures[0].plot;
        let hp = plot
            .curves
            .iter()
            .find(|c| c.label == "hp")
            .unwrap_or_else(|| panic!("hp"));
        assert_eq!(hp.points.len(), 1);
        assert!((hp.points[0].0 - 0.1).abs() < 1e-12 && (hp.points[0].1 - 0.78).abs() < 1e-12);
        assert_eq!(plot.levels.len(), 3);
        // The smoke scale's fractions: 0.9, 0.7, 0.5.
        assert!(md.contains("| hp | 0.7800 | — | — | 1.0 | 1 |"), "{md}");
        assert!(
            md.contains("| rfp | 0.6500 | 0.6500 | 0.6500 | 1.0 | 1 |"),
            "{md}"
        );
        // HP keeps 0.78 ≥ 0.95 × 0.8 at 0.9; RFP's 0.65 keeps neither share.
        assert!(
            md.contains("| hp | 1 / 1 of 1 | 0 / 0 of 1 | 0 / 0 of 1 |"),
            "{md}"
        );
        assert!(md.contains("| rfp | 0 / 0 of 1 |"), "{md}");
    }
}
