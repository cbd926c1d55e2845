//! `lopper search`: flags into [`SearchSpec`].

use std::path::{Path, PathBuf};

use anyhow::Result;
use lopper::pipeline::{Distributed, SearchDir, SearchOutcome, SearchSpec, TrainDir};
use lopper::prune::ObjectiveSpec;

use crate::progress::Bars;

/// Flags of `lopper search`.
#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// The folder of a `lopper train` run: its task, data, split, space and best checkpoint
    /// are used.
    #[arg(long, value_name = "DIR")]
    pub train_run: PathBuf,
    #[command(flatten)]
    pub spec: SearchSpec,
    /// Objectives, comma-separated, each `name` or `name={json}` (see `lopper objectives`);
    /// e.g. `error,params` or `error,latency={"batch_size":8}`.
    #[arg(long, default_value = "error,params")]
    pub objectives: String,
    /// Output folder (the search's trial log and checkpoint, front.csv, front.json,
    /// hypervolume.csv, plots/). Running the same command again resumes the search.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub store: crate::study::StoreArgs,
}

/// Runs `lopper search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    let dir = SearchDir::new(&args.out);
    let spec = SearchSpec {
        objectives: ObjectiveSpec::parse_list(&args.objectives)?,
        ..args.spec.clone()
    };
    let distributed = args
        .store
        .target(spec.workers)?
        .map(|(url, study, settings)| Distributed {
            url,
            study,
            settings,
        });
    let outcome = lopper::pipeline::search_with(
        &spec,
        &TrainDir::new(&args.train_run),
        &dir,
        &Bars::new(!args.quiet),
        distributed.as_ref(),
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
