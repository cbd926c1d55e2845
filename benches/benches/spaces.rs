//! Benchmarks of `lopper-space`: the LARGE space of a BERT-base-shaped encoder (37,008 binary
//! dimensions) must sample, decode and mutate a point in well under a millisecond together.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lopper_core::{Arch, SearchSpace, Space, seeded_rng};
use lopper_space::{LargeSpace, MediumSpace, Sampler};

fn large(c: &mut Criterion) {
    let mut group = c.benchmark_group("large-bert-base");
    for sampler in [Sampler::Uniform, Sampler::Sparsity] {
        let space = LargeSpace::new(Arch::bert_base_cased(), sampler).unwrap();
        let mut rng = seeded_rng(0);
        group.bench_function(format!("sample+decode+mutate/{sampler:?}"), |b| {
            b.iter(|| {
                let p = space.sample(&mut rng);
                let s = space.decode(&p).unwrap();
                let q = space.mutate(&p, &mut rng);
                black_box((s, q))
            })
        });
    }
    let space = LargeSpace::new(Arch::bert_base_cased(), Sampler::Uniform).unwrap();
    let p = space.sample(&mut seeded_rng(1));
    group.bench_function("decode", |b| {
        b.iter(|| black_box(space.decode(&p).unwrap()))
    });
    group.finish();
}

fn medium(c: &mut Criterion) {
    let space = MediumSpace::new(Arch::bert_base_cased()).unwrap();
    let mut rng = seeded_rng(0);
    c.bench_function("medium-bert-base/sample+decode+mutate", |b| {
        b.iter(|| {
            let p = space.sample(&mut rng);
            let s = space.decode(&p).unwrap();
            black_box((s, space.mutate(&p, &mut rng)))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = large, medium
}
criterion_main!(benches);
