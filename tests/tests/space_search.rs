//! A search over a real search space: every bundled optimizer drives the runner over the
//! paper's spaces of an encoder, with objectives computed from the decoded sub-network.

use lopper::core::{Arch, Objective, SearchSpace, Trial};
use lopper::search::{EvalContext, Evaluator, Measurement, Search, SearchConfig};
use lopper::space::{SpaceConfig, SpaceKind};

/// Kept fraction of heads+units against a made-up "error" that grows as the network shrinks,
/// computed from the decoded sub-network (what the model evaluator will do with real scores).
struct SizeVsError<'a>(&'a dyn SearchSpace);

impl Evaluator for SizeVsError<'_> {
    fn objectives(&self) -> Vec<Objective> {
        vec![
            Objective::minimize("error", "fraction"),
            Objective::minimize("size", "fraction"),
        ]
    }

    fn evaluate(&self, t: &Trial, _: &mut EvalContext<'_>) -> lopper::search::Result<Measurement> {
        let arch = self.0.arch();
        let subnet = self.0.decode(&t.point)?;
        let heads = subnet.total_heads() as f64 / arch.total_heads() as f64;
        let units = subnet.total_units() as f64 / arch.total_units() as f64;
        let layers = subnet.num_kept_layers() as f64 / arch.num_layers as f64;
        let size = 0.3 * heads + 0.7 * units;
        let error = 0.1 + 0.5 * (1.0 - heads).powi(2) + 0.3 * (1.0 - units) * (1.0 - layers);
        Ok(Measurement::new(vec![error, size])
            .with_info(serde_json::json!({ "subnet": subnet.to_string() })))
    }
}

#[test]
fn every_optimizer_searches_every_space() {
    let arch = Arch::minilm_l6();
    for kind in SpaceKind::ALL {
        let space = SpaceConfig::new(kind).build(arch).unwrap();
        for optimizer in ["random", "local-search", "nsga2", "morea"] {
            let evaluator = SizeVsError(space.as_ref());
            let mut config = SearchConfig::new(optimizer);
            config.max_evaluations = Some(40);
            config.initial_design = true;
            config.reference_point = Some(vec![1.5, 1.5]);
            let r = Search::new(space.as_ref(), &evaluator, config)
                .run()
                .unwrap();
            assert_eq!(r.records.len(), 40, "{optimizer} on {kind}");
            assert!(!r.front.is_empty());
            // The initial design's upper bound is the full network: size 1, error 0.1.
            assert_eq!(r.records[0].values, vec![0.1, 1.0], "{optimizer} on {kind}");
            assert!(
                r.records[0].info["subnet"]
                    .as_str()
                    .unwrap()
                    .starts_with("6 layers")
            );
            let hv = r.hypervolume_trace.unwrap();
            assert!(hv.last().unwrap() > &0.0);
        }
    }
}

#[test]
fn a_run_folder_holds_the_trial_log_and_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let space = SpaceConfig::new(SpaceKind::Medium)
        .build(Arch::minilm_l6())
        .unwrap();
    let evaluator = SizeVsError(space.as_ref());
    let mut config = SearchConfig::new("nsga2");
    config.max_evaluations = Some(25);
    config.seed = 5;
    config.workers = 2;
    Search::new(space.as_ref(), &evaluator, config)
        .run_dir(dir.path())
        .run()
        .unwrap();
    let trials = lopper::search::read_trials(dir.path()).unwrap();
    assert_eq!(trials.len(), 25);
    assert_eq!(trials[0].point.coords().len(), 12);
    let opened = lopper::search::RunStore::open(dir.path()).unwrap();
    let run = opened.manifest.unwrap();
    assert_eq!(run.seed, 5);
    assert_eq!(run.optimizer, "nsga2");
    assert!(opened.checkpoint.unwrap().outstanding.is_empty());
}
