//! Search quality and evaluation speed on a real trained super-network (a bench binary, not
//! run by CI): the hypervolume that local search, random search, NSGA-II and MO-REA reach on
//! one `lopper train` run, and evaluations per hour of sliced against masked evaluation.
//!
//! ```sh
//! cargo bench -p lopper-cli --bench search_quality -- runs/rte-full-s0
//! cargo bench -p lopper-cli --bench search_quality -- runs/rte-full-s0 \
//!     --budget 100 --seeds 2 --validation-limit 256 --masked-budget 12 --out target/search-quality
//! ```
//!
//! Every search is a search folder under `--out` (the library's `lopper::pipeline::search`), so an interrupted bench resumes
//! where it stopped when started again. The objectives are the paper's: validation error and
//! the parameter count (the paper's count, as a fraction of the full model); hypervolume
//! against the reference point (1, 1). Sliced and masked evaluation score the same random
//! sub-networks (random search, same seed), so the rates compare like with like.

use std::path::{Path, PathBuf};
use std::time::Instant;

struct Options {
    train_run: PathBuf,
    budget: usize,
    seeds: u64,
    validation_limit: usize,
    masked_budget: usize,
    optimizers: Vec<String>,
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        train_run: PathBuf::from("runs/rte-full-s0"),
        budget: 100,
        seeds: 2,
        validation_limit: 256,
        masked_budget: 12,
        optimizers: ["local-search", "random", "nsga2", "morea"]
            .map(String::from)
            .to_vec(),
        out: PathBuf::from("target/search-quality"),
    };
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{a} {v}: {e}"));
        match a.as_str() {
            "--budget" => o.budget = number(value()?)?,
            "--seeds" => o.seeds = number(value()?)? as u64,
            "--validation-limit" => o.validation_limit = number(value()?)?,
            "--masked-budget" => o.masked_budget = number(value()?)?,
            "--optimizers" => o.optimizers = value()?.split(',').map(String::from).collect(),
            "--out" => o.out = PathBuf::from(value()?),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            run => o.train_run = PathBuf::from(run),
        }
    }
    // `cargo bench` runs benches from the package's folder; paths are the workspace's.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for p in [&mut o.train_run, &mut o.out] {
        if p.is_relative() {
            *p = root.join(&*p);
        }
    }
    if !o.train_run.join("train.json").is_file() {
        return Err(format!(
            "{} is not a `lopper train` run (train one first: see the book's searching chapter)",
            o.train_run.display()
        ));
    }
    Ok(o)
}

/// What one search run folder holds: final hypervolume, evaluations, seconds spent evaluating.
struct Outcome {
    hypervolume: f64,
    evaluations: usize,
    eval_seconds: f64,
    errors: Vec<f64>,
}

fn search(
    o: &Options,
    optimizer: &str,
    seed: u64,
    budget: usize,
    objectives: &str,
    dir: &Path,
) -> Result<Outcome, String> {
    use lopper::pipeline::{SearchDir, SearchSpec, Silent, TrainDir};
    let spec = SearchSpec {
        optimizer: optimizer.into(),
        objectives: lopper::prune::ObjectiveSpec::parse_list(objectives)
            .map_err(|e| e.to_string())?,
        budget,
        seed,
        validation_limit: Some(o.validation_limit),
        ..SearchSpec::default()
    };
    let dir = SearchDir::new(dir);
    let outcome = lopper::pipeline::search(&spec, &TrainDir::new(&o.train_run), &dir, &Silent)
        .map_err(|e| format!("search of {}: {e}", dir.path().display()))?;
    let trials = dir.trials().map_err(|e| e.to_string())?;
    Ok(Outcome {
        hypervolume: outcome
            .hypervolume
            .as_ref()
            .and_then(|t| t.last().copied())
            .ok_or("no hypervolume trace")?,
        evaluations: trials.len(),
        eval_seconds: trials.iter().map(|t| t.eval_seconds).sum(),
        errors: trials.iter().map(|t| t.values[0]).collect(),
    })
}

fn main() -> Result<(), String> {
    let o = options()?;
    let start = Instant::now();
    println!(
        "search quality on {} ({} evaluations, {} seeds, validation capped at {})",
        o.train_run.display(),
        o.budget,
        o.seeds,
        o.validation_limit
    );
    println!("optimizer      seed  hypervolume  evaluations  eval s");
    let mut summary = Vec::new();
    for opt in &o.optimizers {
        let mut hvs = Vec::new();
        for seed in 0..o.seeds {
            let dir = o.out.join(format!("{opt}-s{seed}"));
            let r = search(&o, opt, seed, o.budget, "error,params", &dir)?;
            println!(
                "{opt:<14} {seed:>4}  {:>11.4}  {:>11}  {:>6.0}",
                r.hypervolume, r.evaluations, r.eval_seconds
            );
            hvs.push(r.hypervolume);
        }
        let mean = hvs.iter().sum::<f64>() / hvs.len() as f64;
        summary.push((opt.clone(), mean, hvs));
    }
    println!("\nmean hypervolume over seeds:");
    for (opt, mean, hvs) in &summary {
        println!("  {opt:<14} {mean:.4}  {hvs:.4?}");
    }

    // Sliced against masked: the same random sub-networks, scored both ways.
    let mut rates = Vec::new();
    let mut errors = Vec::new();
    for mode in ["sliced", "masked"] {
        let dir = o.out.join(format!("rate-{mode}"));
        let objectives = format!("error={{\"mode\":\"{mode}\"}},params");
        let r = search(&o, "random", 0, o.masked_budget, &objectives, &dir)?;
        let per_hour = 3600.0 * r.evaluations as f64 / r.eval_seconds;
        println!(
            "{mode}: {} evaluations in {:.0} s of evaluation: {per_hour:.0} evaluations/hour",
            r.evaluations, r.eval_seconds
        );
        rates.push(per_hour);
        errors.push(r.errors);
    }
    println!(
        "sliced/masked: {:.2}x; same validation errors: {}",
        rates[0] / rates[1],
        errors[0] == errors[1]
    );
    println!("bench wall time: {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}
