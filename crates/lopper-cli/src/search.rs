//! `lopper search`: flags into [`SearchSpec`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lopper::pipeline::{Checkpoint, SearchDir, SearchOutcome, SearchSpec, TrainDir};
use lopper::prune::ObjectiveSpec;

use crate::progress::Bars;

/// Flags of `lopper search`.
#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// The folder of a `lopper train` run: its task, data, split, space and best checkpoint
    /// are used.
    #[arg(long, value_name = "DIR")]
    pub train_run: PathBuf,
    /// Which checkpoint of the run: best or last.
    #[arg(long, default_value = "best")]
    pub checkpoint: Checkpoint,
    /// Optimizer plugin (see `lopper optimizers`).
    #[arg(long, default_value = "local-search")]
    pub optimizer: String,
    /// The optimizer's settings as JSON.
    #[arg(long, value_name = "JSON")]
    pub optimizer_config: Option<String>,
    /// Objectives, comma-separated, each `name` or `name={json}` (see `lopper objectives`);
    /// e.g. `error,params` or `error,latency={"batch_size":8}`.
    #[arg(long, default_value = "error,params")]
    pub objectives: String,
    /// Evaluations.
    #[arg(long, default_value_t = 100)]
    pub budget: usize,
    /// Seed of the optimizer.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Evaluations in parallel (timings still run one at a time).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Evaluate the space's largest, smallest and mid-point sub-networks first.
    #[arg(long)]
    pub initial_design: bool,
    /// The hypervolume's reference point, one coordinate per objective (default: 1 for every
    /// objective measured as a fraction).
    #[arg(long = "ref", value_name = "X,Y,...")]
    pub reference: Option<String>,
    /// Score on the first N validation examples only (the paper's large-task protocol caps
    /// them).
    #[arg(long, value_name = "N")]
    pub validation_limit: Option<usize>,
    /// Examples per batch when scoring.
    #[arg(long, default_value_t = 64)]
    pub eval_batch_size: usize,
    /// Output folder (the search's trial log and checkpoint, front.csv, front.json,
    /// hypervolume.csv, plots/). Running the same command again resumes the search.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl SearchArgs {
    fn spec(&self) -> Result<SearchSpec> {
        Ok(SearchSpec {
            checkpoint: self.checkpoint,
            optimizer: self.optimizer.clone(),
            optimizer_config: match &self.optimizer_config {
                Some(c) => serde_json::from_str(c).context("--optimizer-config is not JSON")?,
                None => serde_json::Value::Null,
            },
            objectives: ObjectiveSpec::parse_list(&self.objectives)?,
            budget: self.budget,
            seed: self.seed,
            workers: self.workers,
            initial_design: self.initial_design,
            reference_point: match &self.reference {
                Some(r) => Some(crate::csvio::parse_point(r).context("--ref")?),
                None => None,
            },
            validation_limit: self.validation_limit,
            eval_batch_size: self.eval_batch_size,
        })
    }
}

/// Runs `lopper search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    let dir = SearchDir::new(&args.out);
    let outcome = lopper::pipeline::search(
        &args.spec()?,
        &TrainDir::new(&args.train_run),
        &dir,
        &Bars { show: !args.quiet },
    )?;
    print(&outcome, dir.path())
}

/// What a finished search prints.
pub fn print(outcome: &SearchOutcome, dir: &Path) -> Result<()> {
    let front = &outcome.front;
    let full = &front.full;
    println!(
        "full network: {}{}",
        front
            .objectives
            .iter()
            .zip(&full.values)
            .map(|(o, v)| format!("{} {v:.4}", o.name))
            .collect::<Vec<_>>()
            .join(", "),
        full.test_error
            .map_or(String::new(), |t| format!(", test_error {t:.4}"))
    );
    if let Some(last) = outcome.hypervolume.as_ref().and_then(|t| t.last()) {
        println!(
            "hypervolume after {} evaluations: {last:.4}",
            outcome.hypervolume.as_ref().map_or(0, Vec::len)
        );
    }
    println!(
        "{} evaluations ({} answered from the cache{}), front of {}:",
        outcome.evaluations,
        outcome.cache_hits,
        if outcome.replayed > 0 {
            format!(", {} replayed from the run folder", outcome.replayed)
        } else {
            String::new()
        },
        front.front.len()
    );
    print!("{}", lopper::pipeline::front_csv(front)?);
    // Plots need a font for their text; without one the search's results still stand.
    match &outcome.plots {
        Ok(files) => {
            for f in files {
                println!("plot: {}", f.display());
            }
        }
        Err(e) => eprintln!("lopper: warning: no plots: {e}"),
    }
    println!("written: {}", dir.display());
    Ok(())
}
