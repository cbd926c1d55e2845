//! Klein et al.'s experiments reproduced with lopper, one command per study:
//!
//! ```text
//! examples/paper/run.sh methods --scale reduced   # study 1, unit by unit
//! examples/paper/run.sh report                    # tables from the results
//! ```
//!
//! A study is a list of units (task × method × seed). Each finished unit appends its rows to
//! `examples/paper/results/<study>.csv` (with the lopper commit, the settings and the seed),
//! and a rerun skips the units already there, so a study accumulates across machines and
//! sessions; commit the file as units land. Run folders (checkpoints) go to `runs/paper/` and
//! are only a cache: a unit whose folder is gone runs again from scratch, deterministically.

mod methods;
mod report;
mod results;
mod scale;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use lopper::data::TaskSource;
use lopper::pipeline::{Bars, Observers};

use crate::methods::{Method, Study};
use crate::scale::Scale;

#[derive(Parser)]
#[command(
    name = "paper",
    about = "Reproduce Klein et al.'s experiments: run a study's units, make its tables"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Study 1: WS-NAS, S-NAS, RFP, HP and LD on the same model, tasks, splits and seeds.
    Methods(StudyArgs),
    /// Every study, then the report.
    All(StudyArgs),
    /// The tables of every study from the results files.
    Report(ReportArgs),
}

#[derive(Args)]
struct StudyArgs {
    /// The scale: smoke (minutes, a test), reduced (the documented study) or paper.
    #[arg(long, value_enum, default_value_t = Scale::Reduced)]
    scale: Scale,
    /// Only these tasks (comma-separated; default: the scale's).
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<TaskSource>,
    /// Only these seeds (comma-separated; default: the scale's).
    #[arg(long, value_delimiter = ',')]
    seeds: Vec<u64>,
    /// Only these methods (comma-separated; default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    methods: Vec<Method>,
    /// Stop after running this many units (the rest stay for the next run).
    #[arg(long)]
    max_units: Option<usize>,
    /// List the units and whether each is done; run nothing.
    #[arg(long)]
    list: bool,
    /// The pre-trained model folder (default: all-MiniLM-L6-v2, fetched by
    /// scripts/fetch-minilm.sh).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The GLUE root (default: $LOPPER_GLUE_DIR or ../shared/data/glue beside the checkout).
    #[arg(long)]
    glue: Option<PathBuf>,
    /// The movie-review ratings folder (default: fetched by scripts/fetch-movie-reviews.sh).
    #[arg(long)]
    movie_reviews: Option<PathBuf>,
    /// Where units keep their run folders.
    #[arg(long)]
    runs: Option<PathBuf>,
    /// Where the results files are (default: examples/paper/results).
    #[arg(long)]
    results: Option<PathBuf>,
    /// No progress bars or messages.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct ReportArgs {
    /// Where the results files are (default: examples/paper/results); the tables are
    /// written beside them.
    #[arg(long)]
    results: Option<PathBuf>,
}

fn results_dir(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("results"))
}

/// The commit of the checkout, `+dirty` when tracked files changed; `unknown` outside git.
fn commit() -> String {
    let root = lopper_testkit::assets::workspace_root();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(head) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{head}+dirty") } else { head }
        }
        None => "unknown".into(),
    }
}

fn study(args: &StudyArgs) -> Result<Study> {
    let asset = |r: std::result::Result<PathBuf, String>| r.map_err(anyhow::Error::msg);
    let model = match &args.model {
        Some(m) => m.clone(),
        None => asset(lopper_testkit::assets::minilm())?,
    };
    let settings = args.scale.settings();
    let tasks = if args.tasks.is_empty() {
        &settings.tasks
    } else {
        &args.tasks
    };
    let glue = match &args.glue {
        Some(g) => Some(g.clone()),
        None => lopper_testkit::assets::glue_dir().ok(),
    };
    let movie_reviews = match &args.movie_reviews {
        Some(m) => Some(m.clone()),
        None if tasks.contains(&TaskSource::MovieReviews) => {
            Some(asset(lopper_testkit::assets::movie_reviews())?)
        }
        None => None,
    };
    let runs = args
        .runs
        .clone()
        .unwrap_or_else(|| lopper_testkit::assets::workspace_root().join("runs/paper"));
    Ok(Study {
        scale: args.scale,
        settings,
        model,
        glue,
        movie_reviews,
        runs,
    })
}

/// `given`, or `default` when nothing was given.
fn pick<T: Clone>(given: &[T], default: &[T]) -> Vec<T> {
    if given.is_empty() {
        default.to_vec()
    } else {
        given.to_vec()
    }
}

fn run_methods(args: &StudyArgs) -> Result<()> {
    let study = study(args)?;
    let tasks = pick(&args.tasks, &study.settings.tasks);
    let seeds = pick(&args.seeds, &study.settings.seeds);
    let methods = pick(&args.methods, &Method::ALL);
    let units = study.units(&tasks, &seeds, &methods);
    let path = results_dir(args.results.clone()).join("methods.csv");
    let mut rows = results::read(&path)?;
    let pending = units
        .iter()
        .filter(|u| !results::done(&rows, args.scale, u))
        .count();
    println!(
        "methods study ({} scale): {} units, {} done, {pending} to run; results in {}",
        args.scale,
        units.len(),
        units.len() - pending,
        path.display()
    );
    if args.list {
        for u in &units {
            let state = if results::done(&rows, args.scale, u) {
                "done"
            } else {
                "pending"
            };
            println!("  {u}: {state}");
        }
        return Ok(());
    }
    let bars = Bars::new(!args.quiet, "paper");
    let commit = commit();
    let mut ran = 0;
    for (i, unit) in units.iter().enumerate() {
        if results::done(&rows, args.scale, unit) {
            continue;
        }
        if args.max_units.is_some_and(|m| ran >= m) {
            println!("stopped after {ran} units (--max-units)");
            break;
        }
        bars.message(&format!("unit {} of {}: {unit}", i + 1, units.len()));
        let new = study.run(unit, &commit, &bars)?;
        results::append(&path, &new)?;
        let seconds = new.first().map_or(0.0, |r| r.seconds);
        println!(
            "{unit}: {} rows in {:.1} min → {}",
            new.len(),
            seconds / 60.0,
            path.display()
        );
        rows.extend(new);
        ran += 1;
    }
    Ok(())
}

fn report(results: Option<PathBuf>) -> Result<()> {
    let dir = results_dir(results);
    let rows = results::read(&dir.join("methods.csv"))?;
    for scale in [Scale::Smoke, Scale::Reduced, Scale::Paper] {
        if !rows.iter().any(|r| r.scale == scale) {
            continue;
        }
        let (md, figures) = report::methods(&rows, scale);
        for figure in &figures {
            lopper::report::plot_curves(&dir.join(&figure.name), &figure.plot)
                .with_context(|| format!("plotting {}", figure.task))?;
        }
        let out = dir.join(format!("methods-{scale}.md"));
        std::fs::write(&out, &md).with_context(|| format!("writing {}", out.display()))?;
        println!(
            "{md}\nwritten: {} and {} figures",
            out.display(),
            figures.len()
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Methods(args) => run_methods(&args),
        Cmd::All(args) => {
            run_methods(&args)?;
            report(args.results.clone())
        }
        Cmd::Report(args) => report(args.results),
    }
}
