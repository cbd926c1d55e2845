//! Whole fine-tuning runs on a tiny random BERT and the RTE fixture: the folder's layout and
//! log, validation per epoch, checkpoints that reload to identical outputs, and a killed run
//! that resumes to the uninterrupted run's weights, bit for bit.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use lopper_core::SearchSpace;
use lopper_data::{EncodedDataset, GlueTask, Split, Task, TextTokenizer};
use lopper_model::{EncoderConfig, Family, HeadKind, Mode, SuperNet};
use lopper_space::{SpaceConfig, SpaceKind};
use lopper_train::{Fit, FitConfig, TrainConfig, TrainError, model_batch};
use tempfile::TempDir;

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", ",", "the", "won", "is", "in", "a", "workers", "was",
    "team", "storm", "school", "river", "law", "honey", "hired", "he", "floods", "firm", "film",
    "doctor", "coast", "car", "bees", "awards", "anna", "lost", "missed",
];

fn glue() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../lopper-data/tests/fixtures/glue")
}

struct Setup {
    _tok: TempDir,
    tok_dir: PathBuf,
    task: Task,
    train: EncodedDataset,
    dev: EncodedDataset,
    config: EncoderConfig,
    space: Box<dyn SearchSpace>,
}

fn setup() -> Setup {
    let tok = tempfile::tempdir().unwrap();
    std::fs::write(tok.path().join("vocab.txt"), VOCAB.join("\n")).unwrap();
    let t = TextTokenizer::from_dir(tok.path(), 32).unwrap();
    let train = GlueTask::Rte.read(&glue(), Split::Train).unwrap();
    let dev = GlueTask::Rte.read(&glue(), Split::Dev).unwrap();
    let config = EncoderConfig {
        family: Family::Bert,
        vocab_size: VOCAB.len(),
        hidden_size: 16,
        num_layers: 2,
        num_heads: 4,
        intermediate_size: 24,
        max_positions: 40,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        head: HeadKind::SequenceClassification,
        num_labels: 2,
    };
    let space = SpaceConfig::new(SpaceKind::Small)
        .build(config.arch())
        .unwrap();
    Setup {
        tok_dir: tok.path().to_path_buf(),
        _tok: tok,
        task: GlueTask::Rte.task(),
        train: EncodedDataset::new(&train, &t).unwrap(),
        dev: EncodedDataset::new(&dev, &t).unwrap(),
        config,
        space,
    }
}

fn device() -> Device {
    lopper_model::default_device().autodiff()
}

fn fit_config(strategy: &str) -> FitConfig {
    FitConfig {
        train: TrainConfig {
            strategy: strategy.parse().unwrap(),
            lr: 1e-3,
            epochs: 3,
            batch_size: 3,
            seed: 5,
            ..TrainConfig::default()
        },
        data_seed: 2,
        eval_batch_size: 2,
        checkpoint_every: 2,
        max_steps: None,
    }
}

fn fit<'a>(s: &'a Setup, strategy: &str, out: &Path) -> Fit<'a, serde_json::Value> {
    Fit::new(
        s.space.as_ref(),
        &s.task,
        &s.train,
        fit_config(strategy),
        out,
    )
    .validation(&s.dev)
    .tokenizer_from(&s.tok_dir)
    .meta(serde_json::json!({"task": "rte", "model": "tiny"}))
}

/// The bytes of `model.safetensors` of a network: every parameter, in a fixed order.
fn parameter_bytes(net: &SuperNet) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    lopper_model::save(&net.valid(), dir.path(), None).unwrap();
    std::fs::read(dir.path().join("model.safetensors")).unwrap()
}

#[test]
fn a_run_validates_each_epoch_logs_each_step_and_keeps_best_and_last() {
    let s = setup();
    let out = tempfile::tempdir().unwrap();
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    let report = fit(&s, "sandwich", out.path()).run(net).unwrap();
    // 10 examples in batches of 3: 4 steps an epoch, 3 epochs.
    assert_eq!(report.steps, 12);
    assert!(report.finished && !report.resumed);
    assert_eq!(report.history.len(), 3);
    for v in &report.history {
        assert_eq!(v.metric, "accuracy");
        assert_eq!(v.scores.len(), 2, "largest and smallest are validated");
        assert!(v.scores.iter().all(|x| (0.0..=1.0).contains(&x.score)));
    }
    let log = std::fs::read_to_string(out.path().join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let steps: Vec<u64> = lines
        .iter()
        .filter(|l| l["kind"] == "step")
        .map(|l| l["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, (0..12).collect::<Vec<_>>());
    assert_eq!(
        lines.iter().filter(|l| l["kind"] == "validation").count(),
        3
    );
    // Each step names the members it trained: the sandwich's four.
    assert!(
        lines
            .iter()
            .filter(|l| l["kind"] == "step")
            .all(|l| l["members"].as_array().unwrap().len() == 4)
    );
    for dir in ["last", "best"] {
        let d = out.path().join(dir);
        assert!(d.join("model.safetensors").is_file(), "{dir}");
        assert!(d.join("config.json").is_file(), "{dir}");
        assert!(d.join("vocab.txt").is_file(), "{dir}: tokenizer copied");
    }
    assert!(out.path().join("last/optimizer.bpk").is_file());
    assert!(out.path().join("train.json").is_file());

    // The last checkpoint reloads (Hugging Face layout) to identical outputs.
    let plain = lopper_model::default_device();
    let (reloaded, _) = SuperNet::load(&out.path().join("last"), &plain, 0).unwrap();
    let trained = report.net.valid();
    let b = s.dev.batches(4).unwrap().next().unwrap();
    let (batch, _) = model_batch(&b, &s.config, &plain).unwrap();
    let full = s.space.decode(&s.space.largest()).unwrap();
    let small = s.space.decode(&s.space.smallest()).unwrap();
    for subnet in [&full, &small] {
        let a = trained
            .forward(&batch, subnet, Mode::Sliced)
            .unwrap()
            .logits
            .unwrap();
        let r = reloaded
            .forward(&batch, subnet, Mode::Sliced)
            .unwrap()
            .logits
            .unwrap();
        let a: Vec<f32> = a.into_data().try_to_vec().unwrap();
        let r: Vec<f32> = r.into_data().try_to_vec().unwrap();
        assert_eq!(a, r);
    }
    // The run is finished: running it again trains nothing more.
    let again = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    let report2 = fit(&s, "sandwich", out.path()).run(again).unwrap();
    assert!(report2.resumed);
    assert_eq!(report2.steps, 12);
    assert_eq!(parameter_bytes(&report2.net), parameter_bytes(&report.net));
}

#[test]
fn a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one() {
    let s = setup();
    for strategy in ["standard", "full"] {
        let straight_dir = tempfile::tempdir().unwrap();
        let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
        let straight = fit(&s, strategy, straight_dir.path()).run(net).unwrap();

        // Killed after step 7 (checkpoints at 2, 4 (end of epoch 1), 6): steps 6 and 7 are
        // lost and replayed; killed again after step 9 (mid-epoch 3), then finished.
        let dir = tempfile::tempdir().unwrap();
        for stop in [7, 9] {
            let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
            let r = fit(&s, strategy, dir.path())
                .stop_after(stop)
                .run(net)
                .unwrap();
            assert!(!r.finished);
            assert_eq!(r.steps, stop);
        }
        let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
        let resumed = fit(&s, strategy, dir.path()).run(net).unwrap();
        assert!(resumed.resumed && resumed.finished);
        assert_eq!(
            parameter_bytes(&resumed.net),
            parameter_bytes(&straight.net),
            "{strategy}"
        );
        let scores = |h: &[lopper_train::ValidationRecord]| -> Vec<_> {
            h.iter()
                .map(|v| (v.epoch, v.step, v.scores.clone()))
                .collect()
        };
        assert_eq!(scores(&resumed.history), scores(&straight.history));
        // The log is the uninterrupted run's, step for step.
        let steps = |d: &Path| -> Vec<(u64, String)> {
            std::fs::read_to_string(d.join("metrics.jsonl"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|l| l["kind"] == "step")
                .map(|l| (l["step"].as_u64().unwrap(), l["members"].to_string()))
                .collect()
        };
        assert_eq!(steps(dir.path()), steps(straight_dir.path()));
    }
}

#[test]
fn other_settings_on_a_run_folder_are_refused() {
    let s = setup();
    let out = tempfile::tempdir().unwrap();
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    fit(&s, "standard", out.path())
        .stop_after(1)
        .run(net)
        .unwrap();
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    let err = fit(&s, "sandwich", out.path()).run(net).unwrap_err();
    assert!(matches!(err, TrainError::OtherRun { .. }), "{err}");
    assert!(err.to_string().contains("other settings"), "{err}");
    // Bad settings are errors, not panics.
    let mut c = fit_config("standard");
    c.train.batch_size = 0;
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    let err = Fit::new(s.space.as_ref(), &s.task, &s.train, c, out.path())
        .run(net)
        .unwrap_err();
    assert!(matches!(err, TrainError::Settings(_)));
    let err = "no-such-strategy"
        .parse::<lopper_train::StrategyKind>()
        .unwrap_err();
    assert!(err.to_string().contains("no-such-strategy"), "{err}");
}

#[test]
fn a_diverging_run_stops_with_the_step_and_keeps_its_last_checkpoint() {
    let s = setup();
    let out = tempfile::tempdir().unwrap();
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    // Two good steps, checkpointed at step 2.
    fit(&s, "standard", out.path())
        .stop_after(2)
        .run(net)
        .unwrap();
    let state = std::fs::read(out.path().join("last/state.json")).unwrap();
    let weights = std::fs::read(out.path().join("last/weights.bpk")).unwrap();
    // The same folder with an absurd learning rate is another run: use a fresh one whose
    // first checkpoint is kept while a later step diverges.
    let out2 = tempfile::tempdir().unwrap();
    let mut c = fit_config("standard");
    c.train.lr = 1e12;
    c.checkpoint_every = 1;
    let net = SuperNet::random(s.config.clone(), &device(), 1).unwrap();
    let err = Fit::new(s.space.as_ref(), &s.task, &s.train, c, out2.path())
        .validation(&s.dev)
        .run(net)
        .unwrap_err();
    let TrainError::Diverged { step, loss } = err else {
        panic!("{err}");
    };
    assert!(step >= 2 && !loss.is_finite(), "step {step}, loss {loss}");
    let text = TrainError::Diverged { step, loss }.to_string();
    assert!(text.contains(&format!("step {step}")) && text.contains("lower learning rate"));
    // Every checkpoint written is of finite weights: the last one is that of step - 1.
    let st: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out2.path().join("last/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(st["trainer"]["step"].as_u64().unwrap() as usize, step - 1);
    assert!(!out2.path().join("best").exists());
    // The first folder was not touched.
    assert_eq!(
        std::fs::read(out.path().join("last/state.json")).unwrap(),
        state
    );
    assert_eq!(
        std::fs::read(out.path().join("last/weights.bpk")).unwrap(),
        weights
    );
}
