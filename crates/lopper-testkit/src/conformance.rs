//! The conformance suite every optimizer plugin runs from its own tests.
//!
//! Each check builds the plugin by name through the registry
//! ([`lopper_core::build_optimizer`]), so the plugin crate (and, for the quality check, the
//! [`BASELINE`] plugin `random`) must be linked into the test binary. A check returns
//! `Ok` or a [`TestkitError::Conformance`] (or the optimizer's own error) saying what broke.
//!
//! | check | what it demands |
//! |---|---|
//! | [`valid_asks`] | every ask returns as many trials as asked, with fresh ids and points of the space (and `suggest`, where supported, issues the points given) — on ZDT1, DTLZ2 with 3 objectives and ZDT1 over mixed domain kinds, with batches asked before any tell and trials told late and out of order |
//! | [`rejects_bad_tells`] | a tell of an unknown id, of a changed point, a repeated tell and a tell with the wrong number of values are errors that leave the state unchanged |
//! | [`checkpoint_round_trip`] | after `save_optimizer` → JSON text → `load_optimizer`, the copy asks exactly what the original asks, round after round, even after an infinite (diverged) value was told |
//! | [`deterministic`] | the same seed gives the same trace, different seeds different traces |
//! | [`quality`] | on ZDT1 (5 variables), the median final hypervolume regret over seeds 0–4 is below that of random search |
//!
//! ```no_run
//! // In a plugin crate's tests (with the `random` plugin linked for the quality check):
//! let report = lopper_testkit::conformance::run_all("my-plugin", serde_json::json!({}))?;
//! # Ok::<(), lopper_testkit::TestkitError>(())
//! ```

use std::collections::HashSet;
use std::fmt;

use lopper_core::{
    CoreError, Evaluated, Optimizer, OptimizerSpec, Point, Space, Trial, build_optimizer,
    load_optimizer, save_optimizer,
};
use serde_json::Value;

use crate::{Problem, Result, TestkitError, Zdt, ZdtKind, drive, problem_by_name};

/// The plugin [`quality`] compares against.
pub const BASELINE: &str = "random";
/// The budget [`run_all`] gives the quality check.
pub const DEFAULT_QUALITY_BUDGET: usize = 500;
/// The seeds of the quality check.
pub const QUALITY_SEEDS: [u64; 5] = [0, 1, 2, 3, 4];
/// The number of ZDT1 variables in the quality check (see [`quality`]).
pub const QUALITY_VARIABLES: usize = 5;

/// The problem of the quality check: ZDT1 with [`QUALITY_VARIABLES`] variables on the grid
/// `0..=100`.
pub fn quality_problem() -> Result<Zdt> {
    Ok(Zdt::with_size(
        ZdtKind::Zdt1,
        QUALITY_VARIABLES,
        Zdt::DEFAULT_RESOLUTION,
    )?)
}

fn fail(check: &'static str, optimizer: &str, message: impl Into<String>) -> TestkitError {
    TestkitError::Conformance {
        check,
        optimizer: optimizer.to_string(),
        message: message.into(),
    }
}

fn build(
    name: &str,
    config: &Value,
    problem: &dyn Problem,
    seed: u64,
) -> Result<Box<dyn Optimizer>> {
    let spec = OptimizerSpec::new(problem.num_objectives(), seed).with_config(config.clone());
    Ok(build_optimizer(name, &spec)?)
}

fn evaluate(problem: &dyn Problem, trials: &[Trial]) -> Vec<Evaluated> {
    trials
        .iter()
        .map(|t| Evaluated::new(t.clone(), problem.evaluate(&t.point)))
        .collect()
}

/// Asks `n` trials and checks their number, their ids (never seen before) and their points.
fn checked_ask(
    check: &'static str,
    name: &str,
    opt: &mut dyn Optimizer,
    problem: &dyn Problem,
    n: usize,
    seen: &mut HashSet<u64>,
) -> Result<Vec<Trial>> {
    let space: &dyn Space = problem;
    let trials = opt.ask(space, n)?;
    if trials.len() != n {
        return Err(fail(
            check,
            name,
            format!("asked for {n} trials, got {}", trials.len()),
        ));
    }
    for t in &trials {
        if !seen.insert(t.id) {
            return Err(fail(
                check,
                name,
                format!("trial id {} was issued twice", t.id),
            ));
        }
        space.validate(&t.point).map_err(|e| {
            fail(
                check,
                name,
                format!("trial {} on `{}`: {e}", t.id, problem.name()),
            )
        })?;
    }
    Ok(trials)
}

/// The problems [`valid_asks`] runs on: ZDT1, DTLZ2 with 3 objectives, and ZDT1 over binary,
/// ordinal, categorical and integer dimensions ([`Zdt::mixed`]).
pub fn conformance_problems() -> Result<Vec<Box<dyn Problem>>> {
    Ok(vec![
        problem_by_name("zdt1")?,
        problem_by_name("dtlz2-3")?,
        Box::new(Zdt::mixed()?),
    ])
}

/// Check 1: asks are valid. On each of [`conformance_problems`], 40 rounds of asks of
/// 0 to 10 trials — the first two before any tell (batch asks), later ones while some
/// trials are still out, told one round late, in reverse order or one at a time. An
/// optimizer that supports [`Optimizer::suggest`] must issue suggested points as given,
/// with fresh ids, and take their results like any other.
pub fn valid_asks(name: &str, config: Value) -> Result<()> {
    const CHECK: &str = "valid_asks";
    const SIZES: [usize; 18] = [7, 5, 0, 3, 1, 4, 2, 9, 1, 3, 6, 1, 10, 2, 1, 1, 5, 8];
    for problem in conformance_problems()? {
        let problem = problem.as_ref();
        let mut opt = build(name, &config, problem, 11)?;
        let mut seen = HashSet::new();
        let mut outstanding: Vec<Trial> = Vec::new();
        for (round, &n) in SIZES.iter().cycle().take(40).enumerate() {
            let trials = checked_ask(CHECK, name, opt.as_mut(), problem, n, &mut seen)?;
            outstanding.extend(trials);
            if round == 6 {
                let points = vec![problem.lower_bound(), problem.upper_bound()];
                match opt.suggest(points.clone()) {
                    Err(CoreError::Unsupported(_)) => {}
                    Err(e) => return Err(e.into()),
                    Ok(trials) => {
                        let given: Vec<Point> = trials.iter().map(|t| t.point.clone()).collect();
                        if given != points {
                            return Err(fail(
                                CHECK,
                                name,
                                format!("suggested {points:?}, issued {given:?}"),
                            ));
                        }
                        for t in &trials {
                            if !seen.insert(t.id) {
                                return Err(fail(
                                    CHECK,
                                    name,
                                    format!("trial id {} was issued twice", t.id),
                                ));
                            }
                        }
                        outstanding.extend(trials);
                    }
                }
            }
            if round < 2 {
                continue;
            }
            // Hold the newest `round % 3` trials back for a later round.
            let hold = (round % 3).min(outstanding.len());
            let held = outstanding.split_off(outstanding.len() - hold);
            let mut done = evaluate(problem, &outstanding);
            if round % 2 == 1 {
                done.reverse();
            }
            if round % 5 == 0 {
                for d in &done {
                    opt.tell(std::slice::from_ref(d))?;
                }
            } else {
                opt.tell(&done)?;
            }
            outstanding = held;
        }
        opt.tell(&evaluate(problem, &outstanding))?;
        checked_ask(CHECK, name, opt.as_mut(), problem, 3, &mut seen)?;
    }
    Ok(())
}

/// Check 2: bad tells are errors that change nothing. A tell of an id never issued, of a
/// trial whose point was changed, a repeated tell (alone or twice in one batch) must be
/// [`CoreError::UnknownTrial`]; a tell with the wrong number of objective values must fail;
/// a batch holding one bad entry must fail as a whole; after each failure the saved state
/// is unchanged. Empty tells are fine.
pub fn rejects_bad_tells(name: &str, config: Value) -> Result<()> {
    const CHECK: &str = "rejects_bad_tells";
    let problem = problem_by_name("zdt1")?;
    let problem = problem.as_ref();
    let mut opt = build(name, &config, problem, 3)?;
    let mut seen = HashSet::new();
    // Some history first, so that the state is not trivial.
    for _ in 0..4 {
        let trials = checked_ask(CHECK, name, opt.as_mut(), problem, 4, &mut seen)?;
        opt.tell(&evaluate(problem, &trials))?;
    }
    let trials = checked_ask(CHECK, name, opt.as_mut(), problem, 3, &mut seen)?;
    let done = evaluate(problem, &trials);
    let (a, b, c) = (done[0].clone(), done[1].clone(), done[2].clone());
    let unknown_id = seen.iter().max().copied().unwrap_or(0) + 1_000;
    let ghost = Evaluated::new(
        Trial {
            id: unknown_id,
            point: a.trial.point.clone(),
        },
        a.values.clone(),
    );
    let mut moved = a.clone();
    moved.trial.point = problem.mutate(&a.trial.point, &mut lopper_core::seeded_rng(0));
    let mut short = a.clone();
    short.values.pop();

    let expect_err = |opt: &mut Box<dyn Optimizer>,
                      batch: &[Evaluated],
                      what: &str,
                      unknown: bool|
     -> Result<()> {
        let before = save_optimizer(opt.as_ref())?;
        match opt.tell(batch) {
            Ok(()) => Err(fail(CHECK, name, format!("{what} was accepted"))),
            Err(e) if unknown && !matches!(e, CoreError::UnknownTrial(_)) => Err(fail(
                CHECK,
                name,
                format!("{what} gave `{e}`, expected an unknown-trial error"),
            )),
            Err(_) if save_optimizer(opt.as_ref())? != before => Err(fail(
                CHECK,
                name,
                format!("{what} failed but changed the state"),
            )),
            Err(_) => Ok(()),
        }
    };
    opt.tell(&[])?;
    expect_err(
        &mut opt,
        std::slice::from_ref(&ghost),
        "a tell of an unknown id",
        true,
    )?;
    expect_err(
        &mut opt,
        std::slice::from_ref(&moved),
        "a tell of a changed point",
        true,
    )?;
    expect_err(
        &mut opt,
        &[a.clone(), ghost],
        "a batch with an unknown id",
        true,
    )?;
    expect_err(&mut opt, &[short], "a tell with too few values", false)?;
    opt.tell(std::slice::from_ref(&a))?;
    expect_err(&mut opt, std::slice::from_ref(&a), "a repeated tell", true)?;
    expect_err(
        &mut opt,
        &[b.clone(), b.clone()],
        "a batch telling one trial twice",
        true,
    )?;
    opt.tell(&[c, b])?;
    checked_ask(CHECK, name, opt.as_mut(), problem, 2, &mut seen)?;
    Ok(())
}

/// Check 3: checkpoints restore exactly. On ZDT1 and ZDT1 over mixed domains: 12 rounds of
/// asks of 3 with one trial told a round late (and one told `+inf` values, as for a
/// diverged evaluation), then `save_optimizer` → JSON text →
/// `load_optimizer` (the copy must save to the same value), then 8 more rounds in which the
/// original and the copy must ask the same trials and are told the same evaluations
/// (including the trial that was out at the checkpoint).
pub fn checkpoint_round_trip(name: &str, config: Value) -> Result<()> {
    const CHECK: &str = "checkpoint_round_trip";
    let problems: [Box<dyn Problem>; 2] = [problem_by_name("zdt1")?, Box::new(Zdt::mixed()?)];
    for problem in problems {
        let problem = problem.as_ref();
        let mut opt = build(name, &config, problem, 5)?;
        let mut seen = HashSet::new();
        let mut late: Vec<Trial> = Vec::new();
        for round in 0..12 {
            let mut trials = checked_ask(CHECK, name, opt.as_mut(), problem, 3, &mut seen)?;
            let newest = trials.pop();
            trials.append(&mut late);
            let mut done = evaluate(problem, &trials);
            if round == 4 {
                // A diverged evaluation: JSON has no infinities, the state must cope.
                done[0].values = vec![f64::INFINITY; problem.num_objectives()];
            }
            opt.tell(&done)?;
            late.extend(newest);
        }
        let saved = save_optimizer(opt.as_ref())?;
        let text = serde_json::to_string(&saved)
            .map_err(|e| fail(CHECK, name, format!("state is not JSON text: {e}")))?;
        let reparsed: Value = serde_json::from_str(&text)
            .map_err(|e| fail(CHECK, name, format!("state text does not parse: {e}")))?;
        let mut copy = load_optimizer(reparsed)
            .map_err(|e| fail(CHECK, name, format!("the saved state does not load: {e}")))?;
        if save_optimizer(copy.as_ref())? != saved {
            return Err(fail(
                CHECK,
                name,
                format!(
                    "the restored optimizer saves to a different state: {} instead of {}",
                    save_optimizer(copy.as_ref())?,
                    saved
                ),
            ));
        }
        for round in 0..8 {
            let n = 1 + round % 4;
            let ours = opt.ask(problem, n)?;
            let theirs = copy.ask(problem, n)?;
            if ours != theirs {
                return Err(fail(
                    CHECK,
                    name,
                    format!(
                        "round {round} after restoring on `{}`: original asked {ours:?}, restored copy {theirs:?}",
                        problem.name()
                    ),
                ));
            }
            let mut told = ours;
            told.append(&mut late);
            let done = evaluate(problem, &told);
            opt.tell(&done)?;
            copy.tell(&done)?;
        }
    }
    Ok(())
}

/// Check 4: determinism. Two full drives on ZDT1 (120 evaluations in batches of 4) with
/// seed 3 give identical traces; seed 4 gives a different one.
pub fn deterministic(name: &str, config: Value) -> Result<()> {
    const CHECK: &str = "deterministic";
    let problem = problem_by_name("zdt1")?;
    let problem = problem.as_ref();
    let run = |seed: u64| -> Result<Vec<Evaluated>> {
        let mut opt = build(name, &config, problem, seed)?;
        Ok(drive(opt.as_mut(), problem, 120, 4)?.evaluated)
    };
    let (first, again, other) = (run(3)?, run(3)?, run(4)?);
    if let Some(i) = (0..first.len()).find(|&i| first[i] != again[i]) {
        return Err(fail(
            CHECK,
            name,
            format!(
                "the same seed gave different evaluations at step {i}: {:?} vs {:?}",
                first[i], again[i]
            ),
        ));
    }
    let points = |t: &[Evaluated]| {
        t.iter()
            .map(|e| e.trial.point.clone())
            .collect::<Vec<Point>>()
    };
    if points(&first) == points(&other) {
        return Err(fail(CHECK, name, "seeds 3 and 4 gave the same trace"));
    }
    Ok(())
}

/// The outcome of [`quality`]: final hypervolume regrets per seed of the optimizer and of
/// the baseline, and their medians.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// The optimizer checked.
    pub optimizer: String,
    /// The plugin it was compared with.
    pub baseline: String,
    /// The problem (`zdt1`, with [`QUALITY_VARIABLES`] variables).
    pub problem: String,
    /// Evaluations per run.
    pub budget: usize,
    /// Final regret of the optimizer, one per seed of [`QUALITY_SEEDS`].
    pub regrets: Vec<f64>,
    /// Final regret of the baseline, per seed.
    pub baseline_regrets: Vec<f64>,
    /// Median of `regrets`.
    pub median: f64,
    /// Median of `baseline_regrets`.
    pub baseline_median: f64,
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[f64]| {
            v.iter()
                .map(|r| format!("{r:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "{} on {} with {} evaluations: median final HV regret {:.4} [{}]; {} {:.4} [{}]",
            self.optimizer,
            self.problem,
            self.budget,
            self.median,
            list(&self.regrets),
            self.baseline,
            self.baseline_median,
            list(&self.baseline_regrets)
        )
    }
}

/// The median (mean of the middle two for an even count); NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The final hypervolume regrets of `name` on `problem` over [`QUALITY_SEEDS`], asked one
/// trial at a time.
pub fn final_regrets(
    name: &str,
    config: Value,
    problem: &dyn Problem,
    budget: usize,
) -> Result<Vec<f64>> {
    QUALITY_SEEDS
        .iter()
        .map(|&seed| {
            let mut opt = build(name, &config, problem, seed)?;
            Ok(drive(opt.as_mut(), problem, budget, 1)?.final_regret())
        })
        .collect()
}

/// Check 5: quality. On ZDT1 with `budget` evaluations asked one at a time, the median
/// final hypervolume regret over seeds 0–4 must be below that of the [`BASELINE`] plugin
/// with its default configuration.
///
/// The problem has [`QUALITY_VARIABLES`] = 5 variables ([`quality_problem`]), not the
/// standard 30: at a few hundred evaluations 30 variables leave random search (and slower
/// evolutionary methods) without a single point inside the reference box, so every median
/// regret would be the true hypervolume and the comparison would say nothing. With 5,
/// random search at 500 evaluations reaches a median regret of about 0.74 (of 0.87).
pub fn quality(name: &str, config: Value, budget: usize) -> Result<QualityReport> {
    quality_against(name, config, BASELINE, Value::Null, budget)
}

/// [`quality`] against another baseline plugin.
pub fn quality_against(
    name: &str,
    config: Value,
    baseline: &str,
    baseline_config: Value,
    budget: usize,
) -> Result<QualityReport> {
    let problem = quality_problem()?;
    let regrets = final_regrets(name, config, &problem, budget)?;
    let baseline_regrets = final_regrets(baseline, baseline_config, &problem, budget)?;
    let report = QualityReport {
        optimizer: name.to_string(),
        baseline: baseline.to_string(),
        problem: problem.name().to_string(),
        budget,
        median: median(&regrets),
        baseline_median: median(&baseline_regrets),
        regrets,
        baseline_regrets,
    };
    if report.median < report.baseline_median {
        Ok(report)
    } else {
        Err(fail(
            "quality",
            name,
            format!("not better than the baseline: {report}"),
        ))
    }
}

/// Runs checks 1–4 and, unless `name` is the [`BASELINE`] itself, the quality check with
/// [`DEFAULT_QUALITY_BUDGET`] evaluations; returns the quality report when there is one.
pub fn run_all(name: &str, config: Value) -> Result<Option<QualityReport>> {
    let budget = (name != BASELINE).then_some(DEFAULT_QUALITY_BUDGET);
    run_all_with(name, config, budget)
}

/// Runs checks 1–4, and the quality check with `quality_budget` evaluations when given.
pub fn run_all_with(
    name: &str,
    config: Value,
    quality_budget: Option<usize>,
) -> Result<Option<QualityReport>> {
    valid_asks(name, config.clone())?;
    rejects_bad_tells(name, config.clone())?;
    checkpoint_round_trip(name, config.clone())?;
    deterministic(name, config.clone())?;
    quality_budget
        .map(|budget| quality(name, config, budget))
        .transpose()
}
