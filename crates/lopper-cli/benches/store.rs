//! Throughput of a search through the trial store against the same search on threads: the
//! `lopper` binary runs `bench-moo` on zdt1 with a random optimizer, once with `--workers N`
//! threads and once as the coordinator of a stored study served by N `lopper worker`
//! processes, on SQLite and (when `LOPPER_BENCH_POSTGRES` or `LOPPER_TEST_POSTGRES` holds a
//! server's URL, e.g. from `scripts/postgres.sh start DIR`) on PostgreSQL.
//!
//! Two kinds of case, one JSON line each:
//! - `"delay_ms":50`: every evaluation sleeps 50 ms, as a real one computes; with N workers
//!   the store should come close to N threads (`vs_threads` near 1).
//! - `"delay_ms":0`: nothing to evaluate, so the time is the store's own cost; the line's
//!   `overhead_ms_per_trial` is (store − threads) / evaluations, what the store adds to each
//!   trial (claim, lease, result, the coordinator's poll).
//!
//! Seconds are wall-clock from starting the coordinator (workers start with it) to its exit.
//! Run with `cargo bench --workspace --bench store` (it builds the binary it times).

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_lopper");

fn bench_moo(budget: usize, delay_ms: u64, workers: usize) -> Command {
    let mut c = Command::new(BIN);
    c.args(["bench-moo", "--problem", "zdt1", "--optimizer", "random"])
        .args(["--budget", &budget.to_string()])
        .args(["--eval-delay-ms", &delay_ms.to_string()])
        .args(["--workers", &workers.to_string(), "--quiet", "--seed", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

fn threads(budget: usize, delay_ms: u64, workers: usize) -> f64 {
    let t0 = Instant::now();
    let status = bench_moo(budget, delay_ms, workers).status().unwrap();
    assert!(status.success(), "threaded bench-moo failed");
    t0.elapsed().as_secs_f64()
}

fn worker(url: &str, study: &str) -> Child {
    Command::new(BIN)
        .args(["worker", "--store", url, "--study", study, "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Seconds of one stored run, and the trials its workers say they recorded.
fn stored(url: &str, study: &str, budget: usize, delay_ms: u64, workers: usize) -> (f64, usize) {
    let t0 = Instant::now();
    let mut coordinator = bench_moo(budget, delay_ms, workers)
        .args(["--store", url, "--study", study])
        .spawn()
        .unwrap();
    let pool: Vec<Child> = (0..workers).map(|_| worker(url, study)).collect();
    assert!(coordinator.wait().unwrap().success(), "coordinator failed");
    let seconds = t0.elapsed().as_secs_f64();
    let mut recorded = 0;
    for w in pool {
        let out = w.wait_with_output().unwrap();
        assert!(out.status.success(), "a worker failed");
        let text = String::from_utf8_lossy(&out.stdout);
        // "worker done: N recorded, …"
        recorded += text
            .lines()
            .filter_map(|l| l.strip_prefix("worker done: "))
            .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
            .sum::<usize>();
    }
    (seconds, recorded)
}

fn remove(url: &str, study: &str) {
    let status = Command::new(BIN)
        .args(["study", "rm", "--store", url, study])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "could not remove study {study}");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite:{}",
        Path::new(dir.path()).join("bench.db").display()
    );
    let mut stores = vec![("sqlite", sqlite)];
    if let Ok(url) =
        std::env::var("LOPPER_BENCH_POSTGRES").or_else(|_| std::env::var("LOPPER_TEST_POSTGRES"))
    {
        stores.push(("postgres", url));
    }
    let pid = std::process::id();
    let cases: [(u64, usize, &[usize]); 2] = [(50, 120, &[1, 2, 4]), (0, 300, &[1, 4])];
    for (delay_ms, budget, counts) in cases {
        for &workers in counts {
            let base = threads(budget, delay_ms, workers);
            println!(
                "{{\"bench\":\"store\",\"backend\":\"threads\",\"workers\":{workers},\"delay_ms\":{delay_ms},\"evaluations\":{budget},\"seconds\":{base:.3},\"per_second\":{:.1}}}",
                budget as f64 / base
            );
            for (backend, url) in &stores {
                let study = format!("bench-{pid}-{delay_ms}-{workers}");
                let (seconds, recorded) = stored(url, &study, budget, delay_ms, workers);
                remove(url, &study);
                assert_eq!(recorded, budget, "the workers recorded {recorded} trials");
                println!(
                    "{{\"bench\":\"store\",\"backend\":\"{backend}\",\"workers\":{workers},\"delay_ms\":{delay_ms},\"evaluations\":{budget},\"seconds\":{seconds:.3},\"per_second\":{:.1},\"vs_threads\":{:.3},\"overhead_ms_per_trial\":{:.2}}}",
                    budget as f64 / seconds,
                    base / seconds,
                    1000.0 * (seconds - base) / budget as f64
                );
            }
        }
    }
}
