//! Cross-crate integration tests of lopper live in `tests/`. This library holds the book's
//! chapters as documentation, so that `cargo test --workspace` compiles every Rust snippet of
//! the book (and runs those not marked `no_run`). The chapters whose code is included from the
//! examples (`writing-an-optimizer.md`, `library.md`) are checked by building the examples.

#[doc = include_str!("../../book/src/concepts/optimizers-and-runner.md")]
pub mod optimizers_and_runner {}
#[doc = include_str!("../../book/src/concepts/search-spaces.md")]
pub mod search_spaces {}
#[doc = include_str!("../../book/src/concepts/supernet.md")]
pub mod supernet {}
#[doc = include_str!("../../book/src/concepts/pareto.md")]
pub mod pareto {}
#[doc = include_str!("../../book/src/guide/tasks-and-data.md")]
pub mod tasks_and_data {}
#[doc = include_str!("../../book/src/guide/training.md")]
pub mod training {}
#[doc = include_str!("../../book/src/guide/searching.md")]
pub mod searching {}
#[doc = include_str!("../../book/src/guide/bayesian-optimizers.md")]
pub mod bayesian_optimizers {}
#[doc = include_str!("../../book/src/guide/bench-moo.md")]
pub mod bench_moo {}
#[doc = include_str!("../../book/src/guide/pipeline.md")]
pub mod pipeline {}
#[doc = include_str!("../../book/src/guide/baselines.md")]
pub mod baselines {}
#[doc = include_str!("../../book/src/guide/deploying.md")]
pub mod deploying {}
#[doc = include_str!("../../book/src/guide/distributed.md")]
pub mod distributed {}
