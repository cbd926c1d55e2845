//! Criterion benchmarks of lopper; the library is empty and the benchmarks live in
//! `benches/` (run `cargo bench -p lopper-benches`).
