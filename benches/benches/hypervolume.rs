//! Benchmarks of `lopper-pareto`: exact hypervolume in 2, 3 and 5 objectives, and
//! non-dominated sorting, on seeded random fronts.
//!
//! Fronts are random directions of the positive orthant projected onto the unit sphere:
//! no such point dominates another, so every point is on the front (the hard case).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use lopper_core::{SeededRng, seeded_rng};
use lopper_pareto::{hypervolume, non_dominated_sort};
use rand::RngExt;

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SeededRng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `n` points on the unit sphere's positive orthant in `d` dimensions, each scaled by a
/// radius drawn from `radius` (a single front when the range is one value).
fn sphere(n: usize, d: usize, radius: (f64, f64), seed: u64) -> Vec<Vec<f64>> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| {
            let direction: Vec<f64> = (0..d).map(|_| normal(&mut rng).abs()).collect();
            let norm = direction
                .iter()
                .map(|x| x * x)
                .sum::<f64>()
                .sqrt()
                .max(f64::MIN_POSITIVE);
            let r = radius.0 + (radius.1 - radius.0) * rng.random::<f64>();
            direction.iter().map(|x| r * x / norm).collect()
        })
        .collect()
}

fn hypervolume_benches(c: &mut Criterion) {
    let cases: [(usize, &[usize]); 3] = [
        (2, &[1_000, 10_000, 100_000]),
        (3, &[1_000, 10_000]),
        (5, &[200]),
    ];
    for (d, sizes) in cases {
        let mut group = c.benchmark_group(format!("hypervolume_{d}d"));
        let reference = vec![1.1; d];
        for &n in sizes {
            let front = sphere(n, d, (1.0, 1.0), 42 + n as u64);
            group.bench_with_input(BenchmarkId::from_parameter(n), &front, |b, front| {
                b.iter(|| hypervolume(black_box(front), black_box(&reference)))
            });
        }
        group.finish();
    }
}

fn sorting_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("non_dominated_sort_3d");
    let n = 10_000;
    // One front of 10^4 points, and a shell of radii 1..2 with many fronts.
    for (name, radius) in [("one_front", (1.0, 1.0)), ("shell", (1.0, 2.0))] {
        let points = sphere(n, 3, radius, 7);
        group.bench_with_input(BenchmarkId::new(name, n), &points, |b, points| {
            b.iter(|| non_dominated_sort(black_box(points)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hypervolume_benches, sorting_benches
}
criterion_main!(benches);
