//! The report of a run folder: `report.md` and one self-contained `report.html`, built from
//! the run's typed records. A pipeline's report leads with the answer — the selected model
//! against the unpruned one, then the front — and ends with the configuration.

use std::path::{Path, PathBuf};

use lopper_report::{
    Block, Doc, FrontPlot, fmt_num, plot_front, plot_hypervolume, plot_loss, with_ext,
};
use lopper_train::{MetricsLine, read_metrics};

use crate::records::{EvalRecord, FrontFile, FrontMember, Record, TrainRecord, TrainSummary};
use crate::{PipelineError, Result, RunLayout, SearchDir, TrainDir};

/// Steps averaged in the loss plot.
const LOSS_WINDOW: usize = 50;

/// Writes `report.md` and `report.html` into `run_dir` (a pipeline's run folder, or a search
/// folder) and returns their paths. Plots that are missing or older than their data are drawn
/// first; without a font the report keeps its tables and says why the plots are missing.
pub fn write_report(run_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = run_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run_dir.display().to_string());
    let mut doc = Doc::default();
    let search_only = SearchDir::new(run_dir);
    let title = if search_only.front().is_file() {
        let title = format!("lopper search report: {name}");
        doc.h(1, &title);
        let front = FrontFile::read(&search_only.front())?;
        search_section(&mut doc, &search_only, &front, "")?;
        title
    } else {
        let layout = RunLayout::new(run_dir);
        let (train, search) = (layout.train(), layout.search());
        if !train.path().is_dir() && !search.path().is_dir() {
            return Err(PipelineError::NotARun {
                dir: run_dir.to_path_buf(),
            });
        }
        let title = format!("lopper pipeline report: {name}");
        doc.h(1, &title);
        let front = match search.front().is_file() {
            true => Some(FrontFile::read(&search.front())?),
            false => None,
        };
        answer_section(&mut doc, &layout, front.as_ref())?;
        if let Some(front) = &front {
            doc.h(2, "Search");
            search_section(&mut doc, &search, front, "search/")?;
        } else if search.path().is_dir() {
            doc.h(2, "Search");
            doc.p("search/ has no front.json: the search has not finished.");
        }
        if train.path().is_dir() {
            train_section(&mut doc, &train)?;
        }
        export_section(&mut doc, &layout)?;
        let config = layout.config();
        if config.is_file() {
            doc.h(2, "Configuration");
            let text =
                std::fs::read_to_string(&config).map_err(|e| PipelineError::io(&config, e))?;
            doc.0.push(Block::Code(text));
        }
        title
    };
    let md_path = run_dir.join("report.md");
    let html_path = run_dir.join("report.html");
    let html = doc.html(&title)?;
    lopper_report::write_atomic(&md_path, doc.markdown().as_bytes())?;
    lopper_report::write_atomic(&html_path, html.as_bytes())?;
    Ok((md_path, html_path))
}

fn opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_else(|| "—".into())
}

/// The selected model against the unpruned one, then the front plot.
fn answer_section(doc: &mut Doc, layout: &RunLayout, front: Option<&FrontFile>) -> Result<()> {
    let selected = match layout.selected().is_file() {
        true => Some(FrontMember::read(&layout.selected())?),
        false => None,
    };
    let eval = match layout.eval().is_file() {
        true => Some(EvalRecord::read(&layout.eval())?),
        false => None,
    };
    if let Some(m) = &selected {
        doc.h(2, "Result");
        let params_col = front.and_then(|f| f.column("params"));
        let fraction = |values: &[f64]| params_col.and_then(|c| values.get(c).copied());
        let unpruned = eval.as_ref().and_then(|e| e.unpruned.as_ref());
        let metric = eval.as_ref().map_or("score", |e| e.metric.as_str());
        let count = |n: Option<u64>, f: Option<f64>| match (n, f) {
            (Some(n), Some(f)) => format!("{n} ({:.1} %)", 100.0 * f),
            (Some(n), None) => n.to_string(),
            (None, Some(f)) => format!("{:.1} %", 100.0 * f),
            (None, None) => "—".into(),
        };
        let latency = |l: Option<&crate::LatencyFigures>| {
            l.map_or("—".into(), |l| {
                format!(
                    "{} ms (batch {} × {})",
                    fmt_num(l.median),
                    l.batch_size,
                    l.seq_len
                )
            })
        };
        let rows = vec![
            vec![
                "sub-network".into(),
                m.summary.clone(),
                front.map_or("—".into(), |f| f.full.summary.clone()),
            ],
            vec![
                "parameters".into(),
                count(eval.as_ref().map(|e| e.params), fraction(&m.values)),
                count(
                    unpruned.map(|u| u.params),
                    front.and_then(|f| fraction(&f.full.values)),
                ),
            ],
            vec![
                format!("test {metric}"),
                opt(eval.as_ref().map(|e| e.score)),
                opt(unpruned.and_then(|u| u.score)),
            ],
            vec![
                "latency (median)".into(),
                latency(eval.as_ref().map(|e| &e.latency_ms)),
                latency(unpruned.map(|u| &u.latency_ms)),
            ],
        ];
        doc.table(&["", "selected", "unpruned"], rows);
    }
    let plot = with_ext(&layout.search().plots().join("front"), "svg");
    if front.is_some() && plot.is_file() {
        doc.0.push(Block::Plot(
            "The trials and the Pareto front".into(),
            "search/plots/front.png".into(),
            plot,
        ));
    }
    Ok(())
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

/// Notes plots left out for want of a font; any other error stands.
fn no_plots(doc: &mut Doc, e: PipelineError) -> Result<()> {
    match e {
        PipelineError::Report(e @ lopper_report::ReportError::NoFont { .. }) => {
            doc.p(format!("(Plots left out: {e}.)"));
            Ok(())
        }
        other => Err(other),
    }
}

/// Writes the plots of a search folder holding `front` to `plots/`: `front.{svg,png}` (the first objective over
/// the second: every trial, the front and, where it was scored there, its test error) when
/// there are two objectives or more, and `hypervolume.{svg,png}` when there is a trace.
pub fn search_plots(dir: &SearchDir, front: &FrontFile) -> Result<Vec<PathBuf>> {
    let plots = dir.plots();
    let mut written = Vec::new();
    if let [y, x, ..] = front.objectives.as_slice() {
        let trials = dir.trials()?;
        let xy = |v: &[f64]| (v[1], v[0]);
        let tested: Vec<(f64, f64)> = front
            .front
            .iter()
            .filter_map(|m| Some((m.values[1], m.test_error?)))
            .collect();
        let label = |o: &lopper_core::Objective| match o.unit.as_str() {
            "" => o.name.clone(),
            u => format!("{} ({u})", o.name),
        };
        let spec = FrontPlot {
            title: format!("Pareto front: {} vs {}", y.name, x.name),
            x_label: label(x),
            y_label: label(y),
            trials: trials
                .iter()
                .filter(|t| t.values.len() >= 2)
                .map(|t| xy(&t.values))
                .collect(),
            front: front.front.iter().map(|m| xy(&m.values)).collect(),
            extra: (!tested.is_empty()).then(|| ("front on the test set".to_string(), tested)),
        };
        written.extend(plot_front(&plots.join("front"), &spec)?);
    }
    if dir.hypervolume().is_file() {
        let trace = crate::search::read_hypervolume(&dir.hypervolume())?;
        let title = format!("Hypervolume over {} evaluations", trace.len());
        written.extend(plot_hypervolume(
            &plots.join("hypervolume"),
            &title,
            &trace,
        )?);
    }
    Ok(written)
}

/// The front, hypervolume, trial count and plots of a search folder.
fn search_section(doc: &mut Doc, dir: &SearchDir, front: &FrontFile, rel: &str) -> Result<()> {
    let trials = dir.trials()?;
    let mut facts = Vec::new();
    if !trials.is_empty() {
        let failed = trials
            .iter()
            .filter(|t| {
                t.values
                    .iter()
                    .any(|v| !v.is_finite() || v.abs() == f64::MAX)
            })
            .count();
        facts.push(format!("{} trials ({failed} failed)", trials.len()));
    }
    facts.push(format!("{} on the Pareto front", front.front.len()));
    let trace = match dir.hypervolume().is_file() {
        true => crate::search::read_hypervolume(&dir.hypervolume())?,
        false => Vec::new(),
    };
    if let Some(hv) = trace.last() {
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
    let full = &front.full;
    let mut parts: Vec<String> = front
        .objectives
        .iter()
        .zip(&full.values)
        .map(|(o, v)| format!("{} {}", o.name, fmt_num(*v)))
        .collect();
    if let Some(t) = full.test_error {
        parts.push(format!("test error {}", fmt_num(t)));
    }
    doc.p(format!("The full model: {}.", parts.join(", ")));
    let with_test = front.front.iter().any(|m| m.test_error.is_some());
    let labels: Vec<String> = front
        .objectives
        .iter()
        .map(|o| match o.unit.as_str() {
            "" => o.name.clone(),
            u => format!("{} ({u})", o.name),
        })
        .collect();
    let mut head = vec!["id", "sub-network"];
    head.extend(labels.iter().map(String::as_str));
    if with_test {
        head.push("test error");
    }
    let rows = front
        .front
        .iter()
        .map(|m| {
            let mut row = vec![m.id.to_string(), m.summary.clone()];
            row.extend(m.values.iter().map(|v| fmt_num(*v)));
            if with_test {
                row.push(opt(m.test_error));
            }
            row
        })
        .collect();
    doc.table(&head, rows);

    let mut wanted = Vec::new();
    // A pipeline's report shows the front plot at the top already.
    if front.objectives.len() >= 2 && rel.is_empty() {
        wanted.push(("front", "The trials and the Pareto front"));
    }
    if !trace.is_empty() {
        wanted.push(("hypervolume", "Hypervolume over the evaluations"));
    }
    let mut drawn = Vec::new();
    if front.objectives.len() >= 2 {
        drawn.push("front");
    }
    if !trace.is_empty() {
        drawn.push("hypervolume");
    }
    let outputs: Vec<PathBuf> = drawn
        .iter()
        .flat_map(|n| ["svg", "png"].map(|e| with_ext(&dir.plots().join(n), e)))
        .collect();
    let mut inputs = vec![dir.front(), dir.hypervolume()];
    inputs.extend(dir.store_files());
    if stale(&outputs, &inputs)
        && let Err(e) = search_plots(dir, front)
    {
        // Without a font the tables still make a report.
        return no_plots(doc, e);
    }
    for (n, caption) in wanted {
        let svg = with_ext(&dir.plots().join(n), "svg");
        doc.0.push(Block::Plot(
            caption.into(),
            format!("{rel}plots/{n}.png"),
            svg,
        ));
    }
    Ok(())
}

/// What was trained and how, the validation per epoch, the loss plot and the test scores.
fn train_section(doc: &mut Doc, train: &TrainDir) -> Result<()> {
    doc.h(2, "Training");
    if train.record().is_file() {
        let r = TrainRecord::read(&train.record())?;
        let (m, t) = (&r.meta, &r.fit.train);
        let rows: Vec<[String; 2]> = vec![
            ["task".into(), m.task.to_string()],
            ["data".into(), m.data.display().to_string()],
            ["model".into(), m.model.clone()],
            [
                "space".into(),
                format!("{} ({} sampler)", m.space, m.sampler),
            ],
            ["strategy".into(), t.strategy.to_string()],
            [
                "protocol".into(),
                format!(
                    "{} (split seed {})",
                    m.split.protocol,
                    opt(m.split.seed.map(|s| s as f64))
                ),
            ],
            ["training examples".into(), r.train_examples.to_string()],
            [
                "validation examples".into(),
                r.validation_examples.to_string(),
            ],
            ["epochs".into(), t.epochs.to_string()],
            ["steps".into(), r.total_steps.to_string()],
            ["batch size".into(), t.batch_size.to_string()],
            ["learning rate".into(), fmt_num(t.lr)],
            ["warm-up steps".into(), t.warmup_steps.to_string()],
            ["weight decay".into(), fmt_num(f64::from(t.weight_decay))],
            ["gradient clip".into(), opt(t.grad_clip.map(f64::from))],
            [
                "random sub-networks per step".into(),
                t.strategy_config.num_random.to_string(),
            ],
            [
                "distillation temperature".into(),
                fmt_num(t.strategy_config.temperature),
            ],
            ["seed (sampling, head)".into(), t.seed.to_string()],
            ["seed (data order)".into(), r.fit.data_seed.to_string()],
            ["maximum length".into(), m.max_len.to_string()],
            [
                "rewired on".into(),
                m.rewire
                    .map_or("not rewired".into(), |n| format!("{n} examples")),
            ],
            ["backend".into(), m.backend.clone()],
        ];
        doc.table(
            &["setting", "value"],
            rows.into_iter().map(Vec::from).collect(),
        );
    }
    let summary = match train.summary().is_file() {
        true => Some(TrainSummary::read(&train.summary())?),
        false => None,
    };
    let metrics = train.metrics();
    let lines = match metrics.is_file() {
        true => read_metrics(&metrics)?,
        false => Vec::new(),
    };
    let validations: Vec<&lopper_train::ValidationRecord> = lines
        .iter()
        .filter_map(|l| match l {
            MetricsLine::Validation(v) => Some(v),
            MetricsLine::Step(_) => None,
        })
        .collect();
    if let Some(first) = validations.first() {
        doc.h(3, format!("Validation per epoch ({})", first.metric));
        let roles: Vec<String> = first
            .scores
            .iter()
            .map(|s| format!("{:?}", s.role).to_lowercase())
            .collect();
        let mut head = vec!["epoch", "step"];
        head.extend(roles.iter().map(String::as_str));
        let rows = validations
            .iter()
            .map(|v| {
                // The log counts epochs from 0; people from 1.
                let mut row = vec![(v.epoch + 1).to_string(), v.step.to_string()];
                row.extend(v.scores.iter().map(|s| fmt_num(s.score)));
                row
            })
            .collect();
        doc.table(&head, rows);
    }
    let steps: Vec<(f64, f64)> = lines
        .iter()
        .filter_map(|l| match l {
            MetricsLine::Step(s) => Some((s.step as f64, s.loss)),
            MetricsLine::Validation(_) => None,
        })
        .collect();
    if !steps.is_empty() {
        let base = train.path().join("plots").join("loss");
        let outputs = [with_ext(&base, "svg"), with_ext(&base, "png")];
        let drawn = match stale(&outputs, std::slice::from_ref(&metrics)) {
            true => plot_loss(&base, &steps, LOSS_WINDOW).map(|_| ()),
            false => Ok(()),
        };
        match drawn {
            Ok(()) => {
                let caption = format!("Training loss ({} steps)", steps.len());
                let [svg, _] = outputs;
                doc.0
                    .push(Block::Plot(caption, "train/plots/loss.png".into(), svg));
            }
            Err(e) => no_plots(doc, e.into())?,
        }
    }
    if let Some(test) = summary.as_ref().and_then(|s| s.test.as_ref()) {
        doc.h(3, "Test scores");
        let rows = test
            .iter()
            .map(|(member, s)| {
                vec![
                    member.clone(),
                    s.metric.clone(),
                    fmt_num(s.score),
                    s.subnet.clone(),
                ]
            })
            .collect();
        doc.table(&["member", "metric", "score", "sub-network"], rows);
    }
    Ok(())
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

/// The exported model's evaluation and files.
fn export_section(doc: &mut Doc, layout: &RunLayout) -> Result<()> {
    let (export, eval) = (layout.export(), layout.eval());
    if !export.is_dir() && !eval.is_file() {
        return Ok(());
    }
    doc.h(2, "Exported model");
    if eval.is_file() {
        let e = EvalRecord::read(&eval)?;
        let l = &e.latency_ms;
        let mut rows = vec![
            vec!["model".into(), e.model.display().to_string()],
            vec!["set".into(), format!("{} ({} examples)", e.set, e.examples)],
        ];
        rows.extend(e.values.iter().map(|(m, v)| vec![m.clone(), fmt_num(*v)]));
        rows.push(vec!["parameters".into(), e.params.to_string()]);
        rows.push(vec![
            "latency (ms)".into(),
            format!(
                "median {}, p10 {}, p90 {} (batch {} × {})",
                fmt_num(l.median),
                fmt_num(l.p10),
                fmt_num(l.p90),
                l.batch_size,
                l.seq_len
            ),
        ]);
        doc.table(&["field", "value"], rows);
    }
    if export.is_dir() {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&export).map_err(|e| PipelineError::io(&export, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PipelineError::io(&export, e))?;
            let meta = entry
                .metadata()
                .map_err(|e| PipelineError::io(&entry.path(), e))?;
            if meta.is_file() {
                files.push(vec![
                    entry.file_name().to_string_lossy().into_owned(),
                    size(meta.len()),
                ]);
            }
        }
        files.sort();
        doc.p("The model folder export/ holds:");
        doc.table(&["file", "size"], files);
    }
    Ok(())
}
