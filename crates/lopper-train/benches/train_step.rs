//! Examples per second of one training step of each strategy: all-MiniLM-L6-v2 with a 2-class
//! head, batch 8 × length 128 (seeded random ids, all attended), the SMALL space, AdamW. Every
//! member runs sliced. The members each timed step trained are written as JSON so that
//! `scripts/reference/bench_train_torch.py` times exactly the same steps in PyTorch, where the
//! reference masks.
//!
//!     cargo bench --workspace --bench train_step --profile dev [-- REPS [PLANS.json]]
//!
//! One JSON line per strategy: `{"case", "threads", "examples_per_second", …}`.
//!
//! REPS (default 5) timed steps per strategy after one warm-up; PLANS.json defaults to
//! `target/train_step_plans.json`. `LOPPER_BENCH_STRATEGIES=standard,full` times only those
//! strategies and skips the optimizer-alone case (for a profile of one step kind, e.g.
//! `perf record`); the plans file then holds just them.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use burn::tensor::{Int, Tensor, TensorData};
use lopper_core::seeded_rng;
use lopper_model::{Batch, EncoderConfig, HeadKind, SuperNet};
use lopper_space::{SpaceConfig, SpaceKind};
use lopper_train::{STRATEGIES, StrategyKind, Targets, TrainConfig, Trainer};
use rand::RngExt;

const BATCH: usize = 8;
const LEN: usize = 128;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let reps: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let plans_path = args.get(1).cloned().unwrap_or_else(|| {
        lopper_testkit::assets::workspace_root()
            .join("target/train_step_plans.json")
            .to_string_lossy()
            .into_owned()
    });
    let dir = lopper_testkit::assets::minilm().unwrap();
    let device = lopper_model::default_device().autodiff();
    let config = EncoderConfig::from_file(&dir.join("config.json"))
        .unwrap()
        .with_head(HeadKind::SequenceClassification, 2);
    let mut rng = seeded_rng(0);
    let ids: Vec<Vec<u32>> = (0..BATCH)
        .map(|_| (0..LEN).map(|_| rng.random_range(1000..30_000)).collect())
        .collect();
    let labels: Vec<i64> = (0..BATCH as i64).map(|i| i % 2).collect();
    let batch = Batch::new(&ids, None, None, &config, &device).unwrap();
    let targets = Targets::Classes(Tensor::<1, Int>::from_data(
        TensorData::new(labels.clone(), [BATCH]),
        &device,
    ));
    let space = SpaceConfig::new(SpaceKind::Small)
        .build(config.arch())
        .unwrap();
    // The kernels run on the current rayon pool: one thread per core, or RAYON_NUM_THREADS.
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let only: Option<Vec<StrategyKind>> = std::env::var("LOPPER_BENCH_STRATEGIES")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().parse().unwrap()).collect());
    // The optimizer step alone on every weight of the network, Burn's AdamW after its
    // per-parameter norm clipping against lopper's fused one (the same settings).
    if only.is_none() {
        let (mut net, _) = SuperNet::load_with_config(&dir, config.clone(), &device, 0).unwrap();
        let full = lopper_core::Subnet::full(&config.arch());
        let grads = |net: &SuperNet| {
            let out = net
                .forward(&batch, &full, lopper_model::Mode::Sliced)
                .unwrap();
            let loss = out.last_hidden_state.powi_scalar(2).mean();
            burn::optim::GradientsParams::from_grads(loss.backward(), net.weights())
        };
        let cfg = TrainConfig::default();
        let burns = burn::optim::AdamWConfig::new()
            .with_weight_decay(cfg.weight_decay)
            .with_epsilon(1e-8)
            .with_grad_clipping(
                cfg.grad_clip
                    .map(burn::optim::grad_clipping::GradientClippingConfig::Norm),
            );
        for (name, mut optimizer) in [
            ("burn", burns.init()),
            ("lopper", lopper_train::FusedAdamW::new(&cfg).init()),
        ] {
            let mut times = Vec::new();
            for _ in 0..=reps {
                let g = grads(&net);
                let t0 = Instant::now();
                // Flex is eager: the step's work is done when it returns.
                let w = optimizer.step(2e-5, net.weights().clone(), g);
                times.push(t0.elapsed().as_secs_f64());
                net.set_weights(w);
            }
            times.remove(0);
            times.sort_by(f64::total_cmp);
            let line = serde_json::json!({
                "bench": "train_step",
                "case": "adamw step, every weight",
                "kernels": name,
                "backend": lopper_model::default_backend(),
                "threads": threads,
                "seconds": times[times.len() / 2],
            });
            println!("{line}");
        }
    }
    let mut plans = serde_json::Map::new();
    let mut results = serde_json::Map::new();
    for name in STRATEGIES {
        if only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        let (mut net, _) = SuperNet::load_with_config(&dir, config.clone(), &device, 0).unwrap();
        let cfg = TrainConfig {
            strategy: name,
            seed: 1,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(cfg, 2 * (reps + 1)).unwrap();
        trainer
            .train_step(&mut net, space.as_ref(), &batch, &targets, 1)
            .unwrap();
        let mut times = Vec::new();
        let mut steps = Vec::new();
        let mut members = 0;
        for _ in 0..reps {
            let t0 = Instant::now();
            let r = trainer
                .train_step(&mut net, space.as_ref(), &batch, &targets, 1)
                .unwrap();
            times.push(t0.elapsed().as_secs_f64());
            members += r.members.len();
            steps.push(serde_json::json!(
                r.members
                    .iter()
                    .map(|m| serde_json::json!({"loss": m.loss_kind, "subnet": m.subnet}))
                    .collect::<Vec<_>>()
            ));
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        // One JSON line per case, as `scripts/reference/bench_train_torch.py` prints them.
        let line = serde_json::json!({
            "bench": "train_step",
            "case": name,
            "backend": lopper_model::default_backend(),
            "threads": threads,
            "batch": BATCH,
            "seq_len": LEN,
            "reps": reps,
            "members_per_step": members as f64 / reps as f64,
            "seconds_per_step": median,
            "examples_per_second": BATCH as f64 / median,
        });
        println!("{line}");
        plans.insert(name.to_string(), serde_json::Value::Array(steps));
        results.insert(name.to_string(), serde_json::json!(BATCH as f64 / median));
    }
    let doc = serde_json::json!({
        "batch": BATCH,
        "length": LEN,
        "seed": 0,
        "labels": labels,
        "input_ids": ids,
        "strategies": plans,
        "lopper_examples_per_second": results,
        "backend": format!("{device:?}"),
    });
    std::fs::write(&plans_path, serde_json::to_string(&doc).unwrap()).unwrap();
    eprintln!("plans: {plans_path}");
}
