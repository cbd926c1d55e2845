//! Head pruning (HP) and retraining-free pruning (RFP) on the tiny real budget the pipeline test uses: a front in the search's
//! format, nested steps, members that select, export and evaluate to their recorded figures.

#![allow(clippy::unwrap_used)]

use lopper_pipeline::{
    Budget, Checkpoint, DataSpec, EvalSpec, FrontFile, HeadPruningSpec, Record, RfpSpec,
    RfpStepKind, RfpTrace, SampleSplit, SearchDir, Silent, TrainDir, TrainSpec,
};
use lopper_train::StrategyKind;

/// The tiny real budget: MiniLM on 16 movie-review snippets, one epoch (or `epochs`).
fn tiny(strategy: StrategyKind, epochs: usize) -> (DataSpec, TrainSpec) {
    let model = lopper_testkit::assets::minilm().unwrap();
    let data = lopper_testkit::assets::movie_reviews().unwrap();
    let data = DataSpec::new("movie-reviews".parse().unwrap(), data);
    let mut train = TrainSpec::new(data.clone(), model.display().to_string());
    train.strategy = strategy;
    train.train_limit = Some(16);
    train.validation_limit = Some(24);
    train.test_limit = Some(40);
    train.epochs = epochs;
    train.batch_size = 8;
    train.lr = 1e-4;
    train.max_len = 32;
    (data, train)
}

/// Exports `m` (from its own checkpoint when it has one, else from `base`) into `out`,
/// evaluates the dense model on the test set and checks the recorded test error.
fn exports_to_its_test_error(
    m: &lopper_pipeline::FrontMember,
    base: &str,
    data: &DataSpec,
    max_len: usize,
    out: &std::path::Path,
) -> lopper_pipeline::Exported {
    // lopper's own layout: HP's members may keep FFN units in a layer with no head left,
    // which the `hf` layout cannot express.
    let exported = lopper_pipeline::export(
        &m.model_or(base),
        &m.subnet,
        out,
        lopper_pipeline::ExportFormat::Lopper,
    )
    .unwrap();
    let eval = EvalSpec {
        max_len,
        limit: Some(40),
        latency: lopper_prune::LatencySettings {
            batch_size: 1,
            seq_len: 16,
            warmup: 0,
            repetitions: 1,
            threads: None,
        },
        ..EvalSpec::default()
    };
    let figures =
        lopper_pipeline::evaluate(&exported.dir.display().to_string(), None, data, &eval).unwrap();
    let recorded = m.test_error.unwrap();
    assert!(
        (1.0 - figures.score - recorded).abs() < 1e-9,
        "exported {} vs recorded error {recorded}",
        figures.score
    );
    exported
}

#[test]
fn head_pruning_writes_a_nested_front_that_exports_and_evaluates() {
    let out = tempfile::tempdir().unwrap();
    let (data, train) = tiny(StrategyKind::Standard, 1);
    let run = TrainDir::new(out.path().join("train"));
    lopper_pipeline::train(&train, &run, &Silent).unwrap();

    let spec = HeadPruningSpec {
        fraction: 0.25,
        sample: 16,
        batch_size: 8,
        ..HeadPruningSpec::default()
    };
    let dir = SearchDir::new(out.path().join("hp"));
    let front = lopper_pipeline::head_pruning(&spec, &run, &dir, &Silent).unwrap();
    // 72 heads, a quarter of the remaining ones per step: 72, 54, 40, 30, 22, 16, 12, 9, 7,
    // 5, 4, 3, 2, 1, 0.
    assert_eq!(front.front.len(), 15);
    let mut by_step = front.front.clone();
    by_step.sort_by_key(|m| m.id);
    let heads: Vec<usize> = by_step.iter().map(|m| m.subnet.total_heads()).collect();
    assert_eq!(heads, [72, 54, 40, 30, 22, 16, 12, 9, 7, 5, 4, 3, 2, 1, 0]);
    for pair in by_step.windows(2) {
        let (a, b) = (&pair[0].subnet, &pair[1].subnet);
        for (ka, kb) in a.layers().iter().zip(b.layers()) {
            let (ka, kb) = (ka.as_ref().unwrap(), kb.as_ref().unwrap());
            assert!(kb.heads.iter().all(|h| ka.heads.contains(h)), "not nested");
            assert_eq!(ka.units.len(), 1536, "HP keeps every FFN unit");
        }
        // Fewer heads, fewer parameters.
        assert!(pair[1].values[1] < pair[0].values[1]);
    }
    assert!(
        by_step
            .iter()
            .all(|m| m.point.is_none() && m.test_error.is_some())
    );
    assert_eq!(front.full.values, by_step[0].values);
    assert_eq!(front.objectives[0].name, "error");
    assert_eq!(front.objectives[1].name, "params");

    // The folder is a search's: front.json reads back, select takes it, and the chosen
    // member exports and evaluates to the test error the front recorded.
    let back = FrontFile::read(&dir.front()).unwrap();
    assert_eq!(back, front);
    assert!(dir.front_csv().is_file());
    // What made it is recorded, the sample's seed included.
    let made = lopper_pipeline::BaselineRecord::read(&dir.baseline()).unwrap();
    assert_eq!(
        made.settings,
        lopper_pipeline::BaselineSettings::Hp(spec.clone())
    );
    assert!(made.train_run.unwrap().is_absolute());
    let budget = Budget {
        max_params: Some(0.9),
        ..Budget::default()
    };
    let chosen = lopper_pipeline::select(&back, &budget).unwrap();
    assert!(chosen.values[1] <= 0.9);
    let best = run.checkpoint(Checkpoint::Best).display().to_string();
    assert!(
        chosen.model.is_none(),
        "HP's members are cut from the fine-tuned network"
    );
    let out_dir = out.path().join("export");
    exports_to_its_test_error(chosen, &best, &data, train.max_len, &out_dir);

    // Bad settings are one clear error.
    let bad = HeadPruningSpec {
        fraction: 1.5,
        ..spec
    };
    let err = lopper_pipeline::head_pruning(&bad, &run, &dir, &Silent).unwrap_err();
    assert!(err.to_string().contains("fraction"), "{err}");

    // The settings the papers leave open: importance on the validation split, and every
    // pruned step fine-tuned after pruning, each then its own model.
    let tuned = HeadPruningSpec {
        fraction: 0.75,
        sample_split: SampleSplit::Validation,
        fine_tune_epochs: 1,
        ..spec
    };
    let tuned_dir = SearchDir::new(out.path().join("hp-tuned"));
    let front = lopper_pipeline::head_pruning(&tuned, &run, &tuned_dir, &Silent).unwrap();
    let mut by_step = front.front.clone();
    by_step.sort_by_key(|m| m.id);
    let heads: Vec<usize> = by_step.iter().map(|m| m.subnet.total_heads()).collect();
    assert_eq!(heads, [72, 18, 4, 1, 0]);
    assert!(
        by_step[0].model.is_none(),
        "the unpruned step is not retrained"
    );
    for (i, m) in by_step.iter().enumerate().skip(1) {
        let model = m.model.as_ref().unwrap();
        assert!(
            model.ends_with(format!("members/step-{i}/best")),
            "{model:?}"
        );
        // Its own run fine-tuned exactly its sub-network.
        let record = lopper_pipeline::read_train_run(&TrainDir::new(
            tuned_dir.path().join("members").join(format!("step-{i}")),
        ))
        .unwrap();
        assert_eq!(record.meta.subnet.as_ref(), Some(&m.subnet));
    }
    // A fine-tuned member exports from its own weights to its recorded test error.
    exports_to_its_test_error(
        &by_step[1],
        &best,
        &data,
        train.max_len,
        &out.path().join("export-tuned"),
    );
}

#[test]
fn rfp_writes_a_front_within_its_budgets_that_exports_and_evaluates() {
    let out = tempfile::tempdir().unwrap();
    let (data, train) = tiny(StrategyKind::Standard, 1);
    let run = TrainDir::new(out.path().join("train"));
    lopper_pipeline::train(&train, &run, &Silent).unwrap();

    // MiniLM's embeddings are over half its parameters: 0.5 is below what no mask removes.
    let spec = RfpSpec {
        budgets: vec![0.95, 0.8, 0.5],
        sample: 16,
        batch_size: 8,
        ..RfpSpec::default()
    };
    let dir = SearchDir::new(out.path().join("rfp"));
    let front = lopper_pipeline::rfp(&spec, &run, &dir, &Silent).unwrap();
    assert_eq!(front.front.len(), 2, "one member per feasible budget");
    let trace = RfpTrace::read(&dir.path().join("rfp.json")).unwrap();
    assert_eq!(trace.budgets.len(), 3);
    assert!(trace.budgets[2].stages.is_empty() && trace.budgets[2].model.is_none());
    for m in &front.front {
        let b = m.info["budget"].as_f64().unwrap();
        assert!(
            m.values[1] <= b + 1e-12,
            "params {} over budget {b}",
            m.values[1]
        );
        let steps: Vec<RfpStepKind> = trace
            .budgets
            .iter()
            .find(|t| t.fraction == b)
            .unwrap()
            .stages
            .iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(
            steps,
            [
                RfpStepKind::Search,
                RfpStepKind::Rearrange,
                RfpStepKind::Tune
            ]
        );
        // The member's weights are its own (the tuned scales folded in): it exports from its
        // checkpoint and evaluates to the recorded test error.
        let own = m.model.clone().unwrap();
        assert!(own.join("config.json").is_file());
        let dest = out.path().join(format!("export-{b}"));
        exports_to_its_test_error(m, "unused", &data, train.max_len, &dest);
    }
    // A rerun resumes: the budgets are not pruned again, the front is the same.
    let again = lopper_pipeline::rfp(&spec, &run, &dir, &Silent).unwrap();
    assert_eq!(again, front);
    assert_eq!(RfpTrace::read(&dir.path().join("rfp.json")).unwrap(), trace);
    // Other settings in the same folder are refused; bad settings are one clear error.
    let other = RfpSpec {
        seed: 1,
        ..spec.clone()
    };
    assert!(lopper_pipeline::rfp(&other, &run, &dir, &Silent).is_err());
    let bad = RfpSpec {
        budgets: vec![1.5],
        ..spec
    };
    let err = lopper_pipeline::rfp(&bad, &run, &dir, &Silent).unwrap_err();
    assert!(err.to_string().contains("budgets"), "{err}");

    // Under a MAC constraint, every budget's cost stays within it.
    let macs = RfpSpec {
        constraint: lopper_pipeline::ConstraintKind::Macs,
        budgets: vec![0.6],
        sample: 16,
        batch_size: 8,
        tune: false,
        ..RfpSpec::default()
    };
    let dir = SearchDir::new(out.path().join("rfp-macs"));
    let front = lopper_pipeline::rfp(&macs, &run, &dir, &Silent).unwrap();
    assert_eq!(front.front.len(), 1);
    assert!(
        front.front[0].model.is_none(),
        "untuned: the fine-tuned weights"
    );
    let trace = RfpTrace::read(&dir.path().join("rfp.json")).unwrap();
    let last = trace.budgets[0].stages.last().unwrap();
    assert!(last.cost_fraction <= 0.6 + 1e-12 && last.cost_fraction > 0.5);
    assert!(matches!(
        trace.constraint,
        lopper_train::Constraint::Macs { seq_len } if seq_len > 0 && seq_len <= 32
    ));
}

#[test]
fn layer_dropping_keeps_the_bottom_layers_fine_tuned_and_exports_them() {
    let out = tempfile::tempdir().unwrap();
    let (data, train) = tiny(StrategyKind::Full, 1);
    let spec = lopper_pipeline::LayerDroppingSpec { drops: vec![2, 5] };
    let dir = SearchDir::new(out.path().join("ld"));
    let front = lopper_pipeline::layer_dropping(&spec, &train, None, &dir, &Silent).unwrap();
    assert_eq!(front.front.len(), 2);
    for m in &front.front {
        let drop = m.info["dropped_layers"].as_u64().unwrap() as usize;
        // Exactly the bottom 6 − n layers, each whole.
        for (l, keep) in m.subnet.layers().iter().enumerate() {
            match keep {
                Some(k) => {
                    assert!(l < 6 - drop);
                    assert_eq!((k.heads.len(), k.units.len()), (12, 1536));
                }
                None => assert!(l >= 6 - drop),
            }
        }
        // Fine-tuned as its own run, which recorded the sub-network it trained.
        let run = TrainDir::new(dir.path().join("members").join(format!("drop-{drop}")));
        let record = lopper_pipeline::read_train_run(&run).unwrap();
        assert_eq!(record.meta.subnet.as_ref(), Some(&m.subnet));
        assert_eq!(
            m.model.as_deref(),
            Some(run.checkpoint(Checkpoint::Best).as_path())
        );
        let dest = out.path().join(format!("export-{drop}"));
        let exported = exports_to_its_test_error(m, "unused", &data, train.max_len, &dest);
        // The dense model has only the kept layers.
        let dense =
            lopper_model::PrunedNet::load(&exported.dir, &lopper_model::default_device()).unwrap();
        assert_eq!(dense.layers().len(), 6 - drop);
    }
    // Fewer layers, fewer parameters; the unpruned network was fine-tuned the same way.
    let params = |d: u64| {
        front
            .front
            .iter()
            .find(|m| m.info["dropped_layers"] == d)
            .unwrap()
            .values[1]
    };
    assert!(params(5) < params(2) && params(2) < 1.0);
    assert_eq!(front.full.values[1], 1.0);
    assert!(dir.path().join("members/drop-0/summary.json").is_file());
    // Dropping every layer is refused.
    let bad = lopper_pipeline::LayerDroppingSpec { drops: vec![6] };
    let err = lopper_pipeline::layer_dropping(&bad, &train, None, &dir, &Silent).unwrap_err();
    assert!(err.to_string().contains("drops"), "{err}");
}

// The optimizer and the scheduler S-NAS runs with are plugins: link them.
use lopper_opt_random as _;
use lopper_sched_moasha as _;

#[test]
fn standard_nas_fine_tunes_each_trial_under_mo_asha_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let (data, train) = tiny(StrategyKind::Full, 3);
    // Largest, smallest and middle candidates (the initial design), then one random one;
    // rungs at epoch 1 (η = 3, max_t = 3): a third of the trials there go on.
    let spec = lopper_pipeline::SnasSpec {
        budget: 4,
        ..Default::default()
    };
    let dir = SearchDir::new(out.path().join("snas"));
    let front = lopper_pipeline::standard_nas(&spec, &train, None, &dir, &Silent).unwrap();
    let trials = dir.trials().unwrap();
    assert_eq!(trials.len(), 4);
    let epochs: Vec<u64> = trials
        .iter()
        .map(|t| t.info["epochs"].as_u64().unwrap())
        .collect();
    // Every trial ran the grace period; MO-ASHA stopped some there and let the others run
    // to max_t.
    assert!(epochs.iter().all(|&e| e == 1 || e == 3), "{epochs:?}");
    assert!(epochs.contains(&1) && epochs.contains(&3), "{epochs:?}");
    for t in &trials {
        // The result is the best epoch's validation error.
        let errors: Vec<f64> = t.info["validation_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let best = errors.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(t.values[0], best);
        assert_eq!(t.fidelity, Some(errors.len() as u32));
    }
    // Members export from their own best checkpoints and evaluate to the recorded test error.
    assert!(!front.front.is_empty());
    for m in &front.front {
        assert!(m.point.is_some());
        let dest = out.path().join(format!("export-{}", m.id));
        exports_to_its_test_error(m, "unused", &data, train.max_len, &dest);
    }
    // Run again: nothing is trained again, the same front comes back.
    let again = lopper_pipeline::standard_nas(&spec, &train, None, &dir, &Silent).unwrap();
    assert_eq!(again, front);
}
