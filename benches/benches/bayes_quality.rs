//! The quality table of the Bayesian plugins (`ehvi`, `ls-bo`, `rs-bo`, `parego`) against
//! `nsga2` and `random`: median final hypervolume regret over seeds 0–4 after 100
//! evaluations on ZDT1, ZDT2 (30 variables) and DTLZ2 with two objectives (11 variables).
//!
//! Two protocols:
//!
//! - *drive*: `lopper_testkit::drive`, one trial at a time with no suggestions (the
//!   testkit's and the conformance suite's protocol): every optimizer with its own initial
//!   design, which for the Bayesian plugins starts with the upper bound, lower bound and
//!   mid-point of the space.
//! - *runner*: like `lopper-search`'s runner with its initial design, every optimizer is
//!   first given those three points through `suggest`, then asked one trial at a time. On
//!   ZDT1, ZDT2 (lower bound) and DTLZ2 (mid-point) one of them is Pareto-optimal, so here
//!   random search starts with a point of the front too.
//!
//! Not a criterion benchmark: run `cargo bench -p lopper-benches --bench bayes_quality`; it
//! prints both tables and, under each, whether the claims hold (ehvi below nsga2
//! and random, ls-bo and rs-bo below random).

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use lopper_core::{Evaluated, Optimizer, OptimizerSpec, Point, build_optimizer};
use lopper_opt_bayes as _;
use lopper_opt_nsga2 as _;
use lopper_opt_random as _;
use lopper_testkit::conformance::median;
use lopper_testkit::{Problem, drive, problem_by_name};

const BUDGET: usize = 100;
const SEEDS: [u64; 5] = [0, 1, 2, 3, 4];
const PROBLEMS: [&str; 3] = ["zdt1", "zdt2", "dtlz2"];
const OPTIMIZERS: [&str; 6] = ["ehvi", "ls-bo", "rs-bo", "parego", "nsga2", "random"];

/// The runner's protocol: suggest upper bound, lower bound and mid-point, then ask one at a
/// time. Returns the final hypervolume regret.
fn runner_regret(opt: &mut dyn Optimizer, problem: &dyn Problem) -> f64 {
    let mut initial: Vec<Point> = Vec::new();
    for p in [
        problem.upper_bound(),
        problem.lower_bound(),
        problem.mid_point(),
    ] {
        if !initial.contains(&p) {
            initial.push(p);
        }
    }
    let mut values: Vec<Vec<f64>> = Vec::with_capacity(BUDGET);
    let tell = |opt: &mut dyn Optimizer, trials: Vec<lopper_core::Trial>, values: &mut Vec<_>| {
        let done: Vec<Evaluated> = trials
            .into_iter()
            .map(|t| {
                let v = problem.evaluate(&t.point);
                values.push(v.clone());
                Evaluated::new(t, v)
            })
            .collect();
        opt.tell(&done).unwrap();
    };
    let trials = opt.suggest(initial).unwrap();
    tell(opt, trials, &mut values);
    while values.len() < BUDGET {
        let trials = opt.ask(problem, 1).unwrap();
        tell(opt, trials, &mut values);
    }
    problem.hv_regret(&values).unwrap()
}

fn table(runner: bool) -> Vec<(String, String, f64)> {
    let protocol = if runner { "runner" } else { "drive" };
    println!(
        "\n## Median final HV regret, {BUDGET} evaluations, seeds 0-4 ({protocol} protocol)\n"
    );
    print!("| optimizer |");
    for p in PROBLEMS {
        print!(" {p} |");
    }
    println!(" time |");
    println!("|---|{}---|", "---|".repeat(PROBLEMS.len()));
    let mut out = Vec::new();
    for name in OPTIMIZERS {
        let start = Instant::now();
        print!("| {name} |");
        for pname in PROBLEMS {
            let problem = problem_by_name(pname).unwrap();
            let regrets: Vec<f64> = SEEDS
                .iter()
                .map(|&seed| {
                    let spec = OptimizerSpec::new(problem.num_objectives(), seed);
                    let mut opt = build_optimizer(name, &spec).unwrap();
                    if runner {
                        runner_regret(opt.as_mut(), problem.as_ref())
                    } else {
                        drive(opt.as_mut(), problem.as_ref(), BUDGET, 1)
                            .unwrap()
                            .final_regret()
                    }
                })
                .collect();
            let m = median(&regrets);
            print!(" {m:.4} |");
            out.push((name.to_string(), pname.to_string(), m));
        }
        println!(" {:.1} s |", start.elapsed().as_secs_f64());
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument other than ours skips the run.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| !a.starts_with('-') && !"bayes_quality".contains(a.as_str()))
    {
        return;
    }
    for runner in [false, true] {
        let rows = table(runner);
        let get = |o: &str, p: &str| {
            rows.iter()
                .find(|(a, b, _)| a == o && b == p)
                .map(|r| r.2)
                .unwrap()
        };
        println!();
        for p in PROBLEMS {
            let e = get("ehvi", p);
            let ok = |a: f64, b: f64| if a < b { "yes" } else { "NO" };
            println!(
                "{p}: ehvi < nsga2 {}, ehvi < random {}, ls-bo < random {}, rs-bo < random {}",
                ok(e, get("nsga2", p)),
                ok(e, get("random", p)),
                ok(get("ls-bo", p), get("random", p)),
                ok(get("rs-bo", p), get("random", p)),
            );
        }
    }
}
