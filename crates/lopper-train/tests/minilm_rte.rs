//! Every strategy fine-tunes the real all-MiniLM-L6-v2 on a slice of the real RTE: the loss of
//! the sub-networks it trains falls, and the checkpoint it writes reloads to identical outputs.
//! Reads `../shared/data/glue` (run by `.ci/run`, or with `LOPPER_GLUE_DIR` set).

#![allow(clippy::unwrap_used)]

use lopper_core::{SearchSpace, Subnet, seeded_rng};
use lopper_data::{EncodedDataset, GlueTask, PaperProtocol, Protocol, TextTokenizer};
use lopper_model::{EncoderConfig, HeadKind, Mode, SuperNet};
use lopper_space::{SpaceConfig, SpaceKind};
use lopper_testkit::assets;
use lopper_train::{Fit, FitConfig, STRATEGIES, TrainConfig, model_batch, subnet_loss};

/// The sub-networks whose loss a strategy must bring down: the full network, or for `random`
/// (which never trains it on purpose) a fixed panel of random draws.
fn panel(strategy: &str, space: &dyn SearchSpace) -> Vec<Subnet> {
    let largest = space.decode(&space.largest()).unwrap();
    let mut rng = seeded_rng(77);
    let random: Vec<Subnet> = (0..3)
        .map(|_| space.decode(&space.sample(&mut rng)).unwrap())
        .collect();
    match strategy {
        "random" => random,
        _ => vec![largest],
    }
}

#[test]
#[ignore = "reads ../shared/data/glue"]
fn every_strategy_lowers_the_loss_on_real_rte_and_its_checkpoint_reloads() {
    let glue = assets::glue_dir().unwrap();
    let model = assets::minilm().unwrap();
    let task = GlueTask::Rte.task();
    let mut splits = Protocol::Paper(PaperProtocol::new(0))
        .load(|s| GlueTask::Rte.read(&glue, s))
        .unwrap();
    splits.train.examples.truncate(8);
    let tokenizer = TextTokenizer::from_dir(&model, 64).unwrap();
    let train = EncodedDataset::new(&splits.train, &tokenizer).unwrap();
    let config = EncoderConfig::from_file(&model.join("config.json"))
        .unwrap()
        .with_head(HeadKind::SequenceClassification, 2);
    let space = SpaceConfig::new(SpaceKind::Small)
        .build(config.arch())
        .unwrap();
    let plain = lopper_model::default_device();
    let device = plain.clone().autodiff();
    let all = train.batches(8).unwrap().next().unwrap();
    let (batch, targets) = model_batch(&all, &config, &plain).unwrap();
    let targets = targets.unwrap();

    for strategy in STRATEGIES {
        let (net, _) = SuperNet::load_with_config(&model, config.clone(), &device, 3).unwrap();
        let panel = panel(strategy.as_str(), space.as_ref());
        let loss = |net: &SuperNet| -> f64 {
            panel
                .iter()
                .map(|s| subnet_loss(net, &batch, s, &targets, 1).unwrap())
                .sum::<f64>()
                / panel.len() as f64
        };
        let before = loss(&net.valid());
        let out = tempfile::tempdir().unwrap();
        let fit = FitConfig {
            train: TrainConfig {
                strategy,
                lr: 1e-4,
                epochs: 2,
                batch_size: 4,
                seed: 1,
                ..TrainConfig::default()
            },
            data_seed: 1,
            checkpoint_every: 0,
            ..FitConfig::default()
        };
        let report = Fit::new(space.as_ref(), &task, &train, fit, out.path())
            .tokenizer_from(&model)
            .run(net)
            .unwrap();
        assert_eq!(report.steps, 4, "{strategy}");
        let trained = report.net.valid();
        let after = loss(&trained);
        // Strategies that train the full network every step bring its loss down by a tenth in
        // four steps; `linear-random` (the full network in half of these steps) and `random`
        // (a panel of other draws) more slowly, but down all the same.
        let factor = if ["random", "linear-random"].contains(&strategy.as_str()) {
            1.0
        } else {
            0.9
        };
        assert!(
            after < factor * before,
            "{strategy}: panel loss {before:.4} → {after:.4}"
        );
        eprintln!("{strategy}: panel loss {before:.4} → {after:.4}");

        // The checkpoint reloads to identical outputs, full network and smallest.
        let (reloaded, report) = SuperNet::load(&out.path().join("last"), &plain, 0).unwrap();
        assert!(
            report.initialized.is_empty(),
            "the head is in the checkpoint"
        );
        for s in [&space.largest(), &space.smallest()] {
            let subnet = space.decode(s).unwrap();
            let a = trained.forward(&batch, &subnet, Mode::Sliced).unwrap();
            let b = reloaded.forward(&batch, &subnet, Mode::Sliced).unwrap();
            let a: Vec<f32> = a.logits.unwrap().into_data().try_to_vec().unwrap();
            let b: Vec<f32> = b.logits.unwrap().into_data().try_to_vec().unwrap();
            assert_eq!(a, b, "{strategy}");
        }
    }
}
