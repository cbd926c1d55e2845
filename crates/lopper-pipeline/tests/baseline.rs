//! Head pruning (HP) on the tiny real budget the pipeline test uses: a front in the search's
//! format, nested steps, members that select, export and evaluate to their recorded figures.

#![allow(clippy::unwrap_used)]

use lopper_pipeline::{
    Budget, Checkpoint, DataSpec, EvalSpec, FrontFile, HeadPruningSpec, Record, SearchDir, Silent,
    TrainDir, TrainSpec,
};
use lopper_train::StrategyKind;

#[test]
fn head_pruning_writes_a_nested_front_that_exports_and_evaluates() {
    let model = lopper_testkit::assets::minilm().unwrap();
    let data = lopper_testkit::assets::movie_reviews().unwrap();
    let out = tempfile::tempdir().unwrap();
    let data = DataSpec::new("movie-reviews".parse().unwrap(), data);
    let mut train = TrainSpec::new(data.clone(), model.display().to_string());
    train.strategy = StrategyKind::Standard;
    train.train_limit = Some(16);
    train.validation_limit = Some(24);
    train.test_limit = Some(40);
    train.epochs = 1;
    train.batch_size = 8;
    train.lr = 1e-4;
    train.max_len = 32;
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
    assert_eq!(made.method, "hp");
    assert_eq!(made.hp, spec);
    assert!(made.train_run.is_absolute());
    let budget = Budget {
        max_params: Some(0.9),
        ..Budget::default()
    };
    let chosen = lopper_pipeline::select(&back, &budget).unwrap();
    assert!(chosen.values[1] <= 0.9);
    let best = run.checkpoint(Checkpoint::Best);
    let exported = lopper_pipeline::export(
        &best.display().to_string(),
        &chosen.subnet,
        &out.path().join("export"),
    )
    .unwrap();
    let eval = EvalSpec {
        max_len: train.max_len,
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
        lopper_pipeline::evaluate(&exported.dir.display().to_string(), None, &data, &eval).unwrap();
    let recorded = chosen.test_error.unwrap();
    assert!(
        (1.0 - figures.score - recorded).abs() < 1e-12,
        "exported {} vs recorded error {recorded}",
        figures.score
    );

    // Bad settings are one clear error.
    let bad = HeadPruningSpec {
        fraction: 1.5,
        ..spec
    };
    let err = lopper_pipeline::head_pruning(&bad, &run, &dir, &Silent).unwrap_err();
    assert!(err.to_string().contains("fraction"), "{err}");
}
