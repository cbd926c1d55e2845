//! Sequences per second of all-MiniLM-L6-v2 on the active backend, batch 32 × length 128:
//! the full network, and a sub-network of half the heads and half the units of every layer,
//! masked (the reference's way: everything computed) and sliced (lopper's way), forward and
//! forward+backward. Compare with `scripts/reference/bench_torch.py` on the same machine.
//!
//!     cargo bench --workspace --bench forward --profile dev [-- REPS]
//!
//! One JSON line per case: `{"case", "kernels", "threads", "examples_per_second", …}`, each
//! case with Burn's element operations (`"kernels": "burn"`, what lopper ran before its own
//! kernels) and with lopper's (`"lopper"`); first the kernels alone: GELU on one FFN
//! activation of the batch and layer norm on one residual stream (in elements per second),
//! and one layer's attention; before them the matrix products alone at the encoder's shapes
//! (GFLOP/s), the part no lopper kernel replaces.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use lopper_core::Subnet;
use lopper_model::{Batch, Mode, SuperNet};
use rand::{RngExt, SeedableRng};

const BATCH: usize = 32;
const LEN: usize = 128;

fn minilm() -> std::path::PathBuf {
    lopper_testkit::assets::minilm().unwrap()
}

/// Median seconds of `reps` runs after one warm-up.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Prints one kernel-alone case as a JSON line, with its elements per second where given.
fn kernel_line(case: &str, kernels: &str, threads: usize, secs: f64, elements: Option<usize>) {
    let line = serde_json::json!({
        "bench": "forward",
        "case": case,
        "kernels": kernels,
        "backend": lopper_model::default_backend(),
        "threads": threads,
        "seconds": secs,
        "elements_per_second": elements.map(|n| n as f64 / secs),
    });
    println!("{line}");
}

/// `[m, k] × [k, n]` at the encoder's linear layers for batch × length rows.
const GEMMS: [(usize, usize, usize); 3] = [
    (BATCH * LEN, 384, 384),
    (BATCH * LEN, 384, 1536),
    (BATCH * LEN, 1536, 384),
];

/// One matrix-product case as a JSON line, with its GFLOP/s (2·m·k·n per product).
fn gemm_line(m: usize, k: usize, n: usize, threads: usize, secs: f64) -> serde_json::Value {
    serde_json::json!({
        "bench": "forward",
        "case": format!("matmul [{m}, {k}] x [{k}, {n}]"),
        "kernels": "gemm",
        "backend": lopper_model::default_backend(),
        "threads": threads,
        "seconds": secs,
        "gflops": 2.0 * (m * k * n) as f64 / secs / 1e9,
    })
}

fn main() {
    let reps: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(5);
    let dir = minilm();
    let plain = lopper_model::default_device();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let ids: Vec<Vec<u32>> = (0..BATCH)
        .map(|_| (0..LEN).map(|_| rng.random_range(1000..30_000)).collect())
        .collect();

    let run = |device: &Device, backward: bool| {
        let (net, _) = SuperNet::load(&dir, device, 0).unwrap();
        let arch = net.arch();
        let batch = Batch::new(&ids, None, None, net.config(), device).unwrap();
        let half = Subnet::from_counts(
            &arch,
            &vec![Some((arch.num_heads / 2, arch.intermediate_size / 2)); arch.num_layers],
        )
        .unwrap();
        let full = Subnet::full(&arch);
        let step = |s: &Subnet, mode: Mode| {
            let out = net.forward(&batch, s, mode).unwrap().last_hidden_state;
            if backward {
                let _ = out.sum().backward();
            } else {
                let _ = out.into_data();
            }
        };
        [
            ("full", time(reps, || step(&full, Mode::Sliced))),
            ("50% masked", time(reps, || step(&half, Mode::Masked))),
            ("50% sliced", time(reps, || step(&half, Mode::Sliced))),
        ]
    };
    // One JSON line per case (what `scripts/reference/bench_torch.py` prints for PyTorch), so
    // that a ratio is taken in one run on one machine. The kernels run on the current rayon
    // pool: one thread per core, or RAYON_NUM_THREADS.
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // The matrix products alone, at the encoder's three linear shapes for the whole batch
    // (Q/K/V/output, FFN in, FFN out): the ceiling every other case works under. Flex calls
    // the `gemm` crate for them whatever the kernel switch says; `bench_torch.py` times
    // `torch.matmul` on the same shapes.
    for (m, k, n) in GEMMS {
        let a: Tensor<2> = Tensor::random([m, k], Distribution::Normal(0.0, 1.0), &plain);
        let b: Tensor<2> = Tensor::random([k, n], Distribution::Normal(0.0, 1.0), &plain);
        let secs = time(reps, || {
            let _ = a.clone().matmul(b.clone()).into_data();
        });
        println!("{}", gemm_line(m, k, n, threads, secs));
    }
    // The element kernels alone, Burn's against lopper's, on one FFN activation of the batch.
    let elements = BATCH * LEN * 1536;
    for (kernels, name) in [(false, "burn"), (true, "lopper")] {
        lopper_model::kernels::set_enabled(kernels);
        let x: Tensor<2> =
            Tensor::random([BATCH * LEN, 1536], Distribution::Normal(0.0, 2.0), &plain);
        let forward = time(reps, || {
            let _ = lopper_model::kernels::gelu(x.clone()).into_data();
        });
        let tracked = plain.clone().autodiff();
        let xa = Tensor::<2>::from_data(x.to_data(), &tracked).require_grad();
        let both = time(reps, || {
            let _ = lopper_model::kernels::gelu(xa.clone()).sum().backward();
        });
        for (case, secs) in [("gelu", forward), ("gelu forward+backward", both)] {
            let case = format!("{case} [{}, 1536]", BATCH * LEN);
            kernel_line(&case, name, threads, secs, Some(elements));
        }
    }
    // Layer norm alone, on one residual stream of the batch, [batch, seq, 384].
    for (kernels, name) in [(false, "burn"), (true, "lopper")] {
        lopper_model::kernels::set_enabled(kernels);
        let norm = |device: &Device| {
            (
                Tensor::<3>::random([BATCH, LEN, 384], Distribution::Normal(1.0, 2.0), device),
                Tensor::<1>::random([384], Distribution::Normal(1.0, 0.5), device),
                Tensor::<1>::random([384], Distribution::Normal(0.0, 0.5), device),
            )
        };
        let (x, g, b) = norm(&plain);
        let forward = time(reps, || {
            let _ = lopper_model::kernels::layer_norm(x.clone(), g.clone(), b.clone(), 1e-12)
                .into_data();
        });
        let tracked = plain.clone().autodiff();
        let (x, g, b) = norm(&tracked);
        let (x, g, b) = (x.require_grad(), g.require_grad(), b.require_grad());
        let both = time(reps, || {
            let y = lopper_model::kernels::layer_norm(x.clone(), g.clone(), b.clone(), 1e-12);
            let _ = y.sum().backward();
        });
        for (case, secs) in [
            ("layer norm", forward),
            ("layer norm forward+backward", both),
        ] {
            let case = format!("{case} [{BATCH}, {LEN}, 384]");
            kernel_line(&case, name, threads, secs, Some(BATCH * LEN * 384));
        }
    }
    // Attention alone, one layer's [batch, 12 heads, seq, 32] with a padding mask.
    for (kernels, name) in [(false, "burn"), (true, "lopper")] {
        lopper_model::kernels::set_enabled(kernels);
        let qkv = |device: &Device| {
            let x = || {
                Tensor::<4>::random([BATCH, 12, LEN, 32], Distribution::Normal(0.0, 1.0), device)
            };
            (
                x(),
                x(),
                x(),
                Tensor::<4>::zeros([BATCH, 1, 1, LEN], device),
            )
        };
        let (q, k, v, m) = qkv(&plain);
        let forward = time(reps, || {
            let _ = lopper_model::kernels::attention(q.clone(), k.clone(), v.clone(), m.clone())
                .into_data();
        });
        let tracked = plain.clone().autodiff();
        let (q, k, v, m) = qkv(&tracked);
        let (q, k, v) = (q.require_grad(), k.require_grad(), v.require_grad());
        let both = time(reps, || {
            let _ = lopper_model::kernels::attention(q.clone(), k.clone(), v.clone(), m.clone())
                .sum()
                .backward();
        });
        for (case, secs) in [("attention", forward), ("attention forward+backward", both)] {
            let case = format!("{case} [{BATCH}, 12, {LEN}, 32]");
            kernel_line(&case, name, threads, secs, None);
        }
    }
    // The encoder with Burn's operations (what lopper ran before its kernels) and with lopper's.
    for (kernels, name) in [(false, "burn"), (true, "lopper")] {
        lopper_model::kernels::set_enabled(kernels);
        for (label, device, backward) in [
            ("forward", plain.clone(), false),
            ("forward+backward", plain.clone().autodiff(), true),
        ] {
            for (case, secs) in run(&device, backward) {
                let line = serde_json::json!({
                    "bench": "forward",
                    "case": format!("{label}: {case}"),
                    "kernels": name,
                    "backend": lopper_model::default_backend(),
                    "threads": threads,
                    "batch": BATCH,
                    "seq_len": LEN,
                    "reps": reps,
                    "seconds_per_batch": secs,
                    "examples_per_second": BATCH as f64 / secs,
                });
                println!("{line}");
            }
        }
    }
}
