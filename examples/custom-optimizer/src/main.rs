//! Runs the example plugin on ZDT1 through lopper's runner, selected by name like any plugin.

use anyhow::Result;
// Links the plugin's registration.
use custom_optimizer as _;
use lopper::problems::ProblemEvaluator;
use lopper::problems::problem_by_name;
use lopper::search::{Search, SearchConfig};

fn main() -> Result<()> {
    let problem = problem_by_name("zdt1")?;
    let evaluator = ProblemEvaluator::new(problem_by_name("zdt1")?);
    let mut config = SearchConfig::new("weighted-climber");
    config.max_evaluations = Some(300);
    config.reference_point = Some(problem.reference_point());
    let result = Search::new(problem.as_ref(), &evaluator, config).run()?;
    let hv = result
        .hypervolume_trace
        .as_deref()
        .and_then(<[f64]>::last)
        .copied()
        .unwrap_or(0.0);
    println!(
        "weighted-climber on zdt1: {} evaluations, {} on the front, hypervolume {hv:.4} of {:.4}",
        result.records.len(),
        result.front.len(),
        problem.true_hypervolume()
    );
    Ok(())
}
