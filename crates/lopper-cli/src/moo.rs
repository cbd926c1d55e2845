//! `lopper bench-moo`: a search on a multi-objective test problem.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use lopper::problems::ProblemEvaluator;
use lopper::search::{Search, SearchConfig, SearchResult};
use lopper::testkit::{Problem, problem_by_name};

/// Settings of one test-problem search.
pub struct MooRun {
    pub problem: String,
    pub optimizer: String,
    pub config: serde_json::Value,
    pub scheduler: Option<String>,
    pub budget: usize,
    pub seed: u64,
    pub workers: usize,
    pub initial_design: bool,
    pub run_dir: Option<PathBuf>,
    pub delay_ms: u64,
    pub progress: bool,
}

/// Runs it; returns the problem (for regrets) and the result.
pub fn run(settings: &MooRun) -> Result<(Box<dyn Problem>, SearchResult)> {
    let problem = problem_by_name(&settings.problem)?;
    let mut evaluator = ProblemEvaluator::new(problem_by_name(&settings.problem)?)
        .with_delay(Duration::from_millis(settings.delay_ms));
    if settings.scheduler.is_some() {
        evaluator = evaluator.with_fidelity(27);
    }
    let mut config = SearchConfig::new(settings.optimizer.clone());
    config.optimizer_config = settings.config.clone();
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
    if settings.progress {
        search = search.observer(crate::progress::SearchProgress::new(&format!(
            "{} on {}",
            settings.optimizer, settings.problem
        )));
    }
    let result = search.run().context("search failed")?;
    Ok((problem, result))
}

/// Prints the final hypervolume and the trace as CSV.
pub fn print_trace(settings: &MooRun, problem: &dyn Problem, result: &SearchResult) {
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
