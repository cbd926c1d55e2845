//! `lopper bench-moo`: a search on a multi-objective test problem.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use lopper::problems::ProblemEvaluator;
use lopper::problems::{Problem, problem_by_name};
use lopper::search::{Search, SearchConfig, SearchResult};

/// Flags of `lopper bench-moo`.
#[derive(clap::Args, Debug)]
pub struct MooArgs {
    /// Test problem: zdt1, zdt2, zdt3, dtlz2 (two objectives) or dtlz2-3 (three).
    #[arg(long, default_value = "zdt1")]
    problem: String,
    /// Optimizer plugin (see `lopper optimizers`).
    #[arg(long, default_value = "random")]
    optimizer: String,
    /// The optimizer's settings as JSON, e.g. `{"population": 20}`.
    #[arg(long, value_name = "JSON", default_value = "null")]
    config: String,
    /// A multi-fidelity scheduler plugin (e.g. `mo-asha`); the problem is then evaluated
    /// epoch by epoch on a synthetic fidelity.
    #[arg(long)]
    scheduler: Option<String>,
    /// Evaluations.
    #[arg(long, default_value_t = 500)]
    budget: usize,
    /// Seed of the optimizer.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Evaluations in parallel: threads of this process, or with --store the trials kept in
    /// flight for the workers (the trace depends on this number, not on how many workers
    /// run).
    #[arg(long, visible_alias = "parallel", default_value_t = 1)]
    workers: usize,
    /// Evaluate the space's upper bound, lower bound and mid-point first.
    #[arg(long)]
    initial_design: bool,
    /// Keep the search in this folder (trial log and checkpoints); running the same command
    /// again resumes it.
    #[arg(long, value_name = "DIR")]
    run_dir: Option<PathBuf>,
    /// Sleep this long in every evaluation (to watch or interrupt a search).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    eval_delay_ms: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    store: crate::study::StoreArgs,
}

/// Epochs of the synthetic fidelity a scheduler sees (the scheduler's own maximum, when it
/// has one, wins).
const SYNTHETIC_EPOCHS: u32 = 27;

/// The evaluator of a test problem, as a worker builds it too: epoch by epoch up to
/// `fidelity` when a scheduler decides.
pub fn evaluator(
    problem: &str,
    eval_delay_ms: u64,
    fidelity: Option<u32>,
) -> Result<ProblemEvaluator> {
    let evaluator = ProblemEvaluator::new(problem_by_name(problem)?)
        .with_delay(Duration::from_millis(eval_delay_ms));
    Ok(match fidelity {
        Some(epochs) => evaluator.with_fidelity(epochs),
        None => evaluator,
    })
}

/// Runs `lopper bench-moo`: the search, then its final hypervolume and trace as CSV.
pub fn run(settings: &MooArgs) -> Result<()> {
    let problem = problem_by_name(&settings.problem)?;
    let fidelity = settings.scheduler.as_ref().map(|_| SYNTHETIC_EPOCHS);
    let evaluator = evaluator(&settings.problem, settings.eval_delay_ms, fidelity)?;
    let mut config = SearchConfig::new(settings.optimizer.clone());
    config.optimizer_config =
        serde_json::from_str(&settings.config).context("--config is not valid JSON")?;
    config.scheduler = settings.scheduler.clone();
    config.seed = settings.seed;
    config.max_evaluations = Some(settings.budget);
    config.workers = settings.workers;
    config.initial_design = settings.initial_design;
    config.reference_point = Some(problem.reference_point());
    let mut search = Search::new(problem.as_ref(), &evaluator, config);
    if let Some(dir) = &settings.run_dir {
        search = search.run_dir(dir);
    }
    if let Some((url, study, store_settings)) = settings.store.target(settings.workers)? {
        let task = lopper::pipeline::StudyTask::BenchMoo {
            problem: settings.problem.clone(),
            eval_delay_ms: settings.eval_delay_ms,
            fidelity,
        };
        search = search.study(url, &study, store_settings, &task)?;
    }
    if !settings.quiet {
        search = search.observer(lopper::pipeline::SearchProgress::new(&format!(
            "{} on {}",
            settings.optimizer, settings.problem
        )));
    }
    let result = search.run().context("search failed")?;
    print_trace(settings, problem.as_ref(), &result);
    Ok(())
}

/// Prints the final hypervolume and the trace as CSV.
fn print_trace(settings: &MooArgs, problem: &dyn Problem, result: &SearchResult) {
    let trace = result.hypervolume_trace.clone().unwrap_or_default();
    let true_hv = problem.true_hypervolume();
    let last = trace.last().copied().unwrap_or(0.0);
    println!(
        "# problem {}, optimizer {}, seed {}, budget {}, reference {:?}",
        settings.problem,
        settings.optimizer,
        settings.seed,
        settings.budget,
        problem.reference_point()
    );
    println!(
        "# final hypervolume {last:.6} (true {true_hv:.6}, regret {:.6})",
        true_hv - last
    );
    println!("evaluation,hypervolume,regret");
    for (i, hv) in trace.iter().enumerate() {
        println!("{},{hv:.6},{:.6}", i + 1, true_hv - hv);
    }
}
