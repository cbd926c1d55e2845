//! Time of one `ask` of the Bayesian plugins with 200 observations in the paper's MEDIUM
//! space of a 12-layer model (24 dimensions): *warm*, with the hyper-parameters
//! warm-started from the previous ask (the steady state of a search; target under 1 s), and
//! *cold*, the first model-based ask that fits from scratch with random restarts.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lopper_core::{
    Arch, Evaluated, Optimizer, OptimizerSpec, Space, build_optimizer, load_optimizer,
    save_optimizer, seeded_rng,
};
use lopper_opt_bayes as _;
use lopper_space::MediumSpace;

const OBSERVATIONS: usize = 200;

/// Two objectives of a point: a size-like sum and a smooth, non-linear error-like term.
fn score(space: &dyn Space, p: &[i64]) -> Vec<f64> {
    let unit: Vec<f64> = space
        .dims()
        .iter()
        .zip(p)
        .map(|(d, &v)| d.domain.to_unit(v))
        .collect();
    let size = unit.iter().sum::<f64>() / unit.len() as f64;
    let error = unit
        .iter()
        .enumerate()
        .map(|(i, u)| (1.0 - u).powi(2) / (1.0 + i as f64))
        .sum::<f64>()
        + 0.1 * (5.0 * unit[0]).sin();
    vec![error, size]
}

fn tell_scored(opt: &mut dyn Optimizer, space: &dyn Space, trials: Vec<lopper_core::Trial>) {
    let done: Vec<Evaluated> = trials
        .into_iter()
        .map(|t| {
            let v = score(space, t.point.coords());
            Evaluated::new(t, v)
        })
        .collect();
    opt.tell(&done).unwrap();
}

/// A plugin that has been told `OBSERVATIONS − 1` random points and has not fitted yet.
fn cold_state(name: &str, space: &dyn Space) -> serde_json::Value {
    let config = serde_json::json!({"initial_corners": false, "initial_random": 0});
    let spec = OptimizerSpec::new(2, 0).with_config(config);
    let mut opt = build_optimizer(name, &spec).unwrap();
    let mut rng = seeded_rng(1);
    let points = (0..OBSERVATIONS - 1)
        .map(|_| space.sample(&mut rng))
        .collect();
    let trials = opt.suggest(points).unwrap();
    tell_scored(opt.as_mut(), space, trials);
    save_optimizer(opt.as_ref()).unwrap()
}

/// The same after one model-based ask and its tell: `OBSERVATIONS` points, warm starts
/// in the state.
fn warm_state(name: &str, space: &dyn Space) -> serde_json::Value {
    let mut opt = load_optimizer(cold_state(name, space)).unwrap();
    let trials = opt.ask(space, 1).unwrap();
    tell_scored(opt.as_mut(), space, trials);
    save_optimizer(opt.as_ref()).unwrap()
}

fn bayes_ask(c: &mut Criterion) {
    let space = MediumSpace::new(Arch::bert_base_cased()).unwrap();
    assert_eq!(space.dims().len(), 24);
    let mut group = c.benchmark_group("bayes_ask_200obs_medium24");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    for name in ["ehvi", "ls-bo", "rs-bo", "parego"] {
        let warm = warm_state(name, &space);
        group.bench_function(format!("{name}/warm"), |b| {
            b.iter_batched(
                || load_optimizer(warm.clone()).unwrap(),
                |mut opt| opt.ask(&space, 1).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    for name in ["ehvi", "ls-bo"] {
        let cold = cold_state(name, &space);
        group.bench_function(format!("{name}/cold"), |b| {
            b.iter_batched(
                || load_optimizer(cold.clone()).unwrap(),
                |mut opt| opt.ask(&space, 1).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bayes_ask);
criterion_main!(benches);
