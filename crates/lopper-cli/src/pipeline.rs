//! `lopper run pipeline.toml`: the whole method from one file (see
//! [`lopper::pipeline::PipelineConfig`] for the file and [`lopper::pipeline::Pipeline`] for
//! what runs).

use std::path::{Path, PathBuf};

use anyhow::Result;
use lopper::pipeline::{
    EvalRecord, Exported, FrontMember, Observers, Pipeline, SearchOutcome, Stage, TrainOutcome,
};
use lopper::search::Observer;
use lopper::train::FitObserver;

use crate::progress::Bars;

/// Flags of `lopper run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The pipeline file (see `examples/pipelines/*.toml`).
    pub config: PathBuf,
    /// The run folder (overrides the file's `out`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Check the file and print the stages with their state; run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Bars, and each stage's results printed as its command prints them.
struct Printing(Bars);

impl Observers for Printing {
    fn fit(&self, label: &str) -> Option<Box<dyn FitObserver>> {
        self.0.fit(label)
    }
    fn search(&self, label: &str) -> Option<Box<dyn Observer>> {
        self.0.search(label)
    }
    fn message(&self, text: &str) {
        self.0.message(text);
    }
    fn stage(&self, stage: Stage, output: &Path, skipped: bool) {
        if skipped {
            eprintln!(
                "lopper: {stage}: done ({} exists), skipped",
                output.display()
            );
        } else {
            eprintln!("lopper: === {stage} ===");
        }
    }
    fn trained(&self, outcome: &TrainOutcome, dir: &Path) {
        crate::train::print(outcome, dir);
    }
    fn searched(&self, outcome: &SearchOutcome, dir: &Path) {
        if let Err(e) = crate::search::print(outcome, dir) {
            eprintln!("lopper: warning: {e:#}");
        }
    }
    fn selected(&self, member: &FrontMember) {
        if let Err(e) = crate::select::print(member) {
            eprintln!("lopper: warning: {e:#}");
        }
    }
    fn exported(&self, exported: &Exported) {
        crate::export::print(exported);
    }
    fn evaluated(&self, record: &EvalRecord) {
        crate::eval::print(record);
    }
}

/// Runs `lopper run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let pipeline = Pipeline::from_file(&args.config, args.out.as_deref())?;
    pipeline.config.check()?;
    if args.dry_run {
        for p in pipeline.plan() {
            let state = if p.done { "done" } else { "to run" };
            println!(
                "{:<7} {state:<7} (output: {})",
                p.stage.as_str(),
                p.output.display()
            );
        }
        return Ok(());
    }
    let outcome = pipeline.run(&Printing(Bars { show: !args.quiet }))?;
    match outcome.report {
        Ok((md, html)) => println!("report: {} and {}", md.display(), html.display()),
        Err(e) => eprintln!("lopper: warning: no report: {e}"),
    }
    println!("pipeline done: {}", pipeline.layout.root().display());
    Ok(())
}
