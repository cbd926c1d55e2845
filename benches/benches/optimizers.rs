//! Benchmarks of the optimizer plugins: one NSGA-II generation of population 100 on a
//! 24-dimensional space (the paper's MEDIUM space of a 12-layer model), and the ask+tell
//! overhead per trial of every bundled plugin on that space.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lopper_core::{Arch, Evaluated, Optimizer, OptimizerSpec, Space, build_optimizer};
use lopper_opt_local_search as _;
use lopper_opt_morea as _;
use lopper_opt_nsga2 as _;
use lopper_opt_random as _;
use lopper_space::MediumSpace;

/// A cheap two-objective function of a point (the optimizer is what is measured).
fn score(p: &[i64]) -> Vec<f64> {
    let s: f64 = p.iter().map(|&v| v as f64).sum();
    let t: f64 = p
        .iter()
        .enumerate()
        .map(|(i, &v)| ((i as f64) - v as f64 / 64.0).abs())
        .sum();
    vec![s, t]
}

/// Ask `n`, score, tell all: one round.
fn round(opt: &mut dyn Optimizer, space: &dyn Space, n: usize) {
    let trials = opt.ask(space, n).unwrap();
    let done: Vec<Evaluated> = trials
        .into_iter()
        .map(|t| {
            let v = score(t.point.coords());
            Evaluated::new(t, v)
        })
        .collect();
    opt.tell(&done).unwrap();
}

/// An optimizer that has already seen `warm` trials, so the benchmark measures steady state.
fn warmed(
    name: &str,
    config: serde_json::Value,
    space: &dyn Space,
    warm: usize,
) -> Box<dyn Optimizer> {
    let mut opt = build_optimizer(name, &OptimizerSpec::new(2, 0).with_config(config)).unwrap();
    for _ in 0..warm {
        round(opt.as_mut(), space, 1);
    }
    opt
}

fn nsga2_generation(c: &mut Criterion) {
    let space = MediumSpace::new(Arch::bert_base_cased()).unwrap();
    let config = serde_json::json!({ "population": 100 });
    let mut opt = warmed("nsga2", config, &space, 300);
    c.bench_function("nsga2/generation-pop100-24d", |b| {
        b.iter(|| round(black_box(opt.as_mut()), &space, 100))
    });
}

fn ask_tell(c: &mut Criterion) {
    let space = MediumSpace::new(Arch::bert_base_cased()).unwrap();
    let mut group = c.benchmark_group("ask+tell-per-trial-24d");
    for name in ["random", "local-search", "nsga2", "morea"] {
        let mut opt = warmed(name, serde_json::Value::Null, &space, 500);
        group.bench_with_input(BenchmarkId::from_parameter(name), &name, |b, _| {
            b.iter(|| round(black_box(opt.as_mut()), &space, 1))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = nsga2_generation, ask_tell
}
criterion_main!(benches);
