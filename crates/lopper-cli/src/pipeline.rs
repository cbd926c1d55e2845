//! `lopper run pipeline.toml`: the whole method from one file (see
//! [`lopper::pipeline::PipelineConfig`] for the file and [`lopper::pipeline::Pipeline`] for
//! what runs).

use std::path::PathBuf;

use anyhow::Result;
use lopper::pipeline::Pipeline;

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
    let outcome = pipeline.run(&Bars::new(!args.quiet))?;
    match outcome.report {
        Ok((md, html)) => println!("report: {} and {}", md.display(), html.display()),
        Err(e) => eprintln!("lopper: warning: no report: {e}"),
    }
    println!("pipeline done: {}", pipeline.layout.root().display());
    Ok(())
}
