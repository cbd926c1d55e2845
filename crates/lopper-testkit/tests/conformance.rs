//! The conformance suite against small in-test plugins: a correct one passes, each broken
//! one fails the check aimed at its flaw.

use lopper_core::{
    Evaluated, Optimizer, OptimizerPlugin, OptimizerSpec, PendingTrials, Point, Result, SeededRng,
    Space, Trial, seeded_rng,
};
use lopper_testkit::conformance::{self, QUALITY_SEEDS};
use lopper_testkit::{TestkitError, drive, problem_by_name};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// What each test plugin gets wrong.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
enum Flaw {
    #[default]
    None,
    /// Accepts any tell.
    Sloppy,
    /// Asks points outside the space.
    OutOfSpace,
    /// Does not save its generator.
    Forgetful,
    /// Ignores the seed.
    Unseeded,
}

fn fresh_rng() -> SeededRng {
    seeded_rng(99)
}

#[derive(Serialize, Deserialize)]
struct Tester {
    #[serde(skip, default = "fresh_rng")]
    unsaved: SeededRng,
    rng: SeededRng,
    pending: PendingTrials,
    objectives: usize,
    flaw: Flaw,
    /// Best told point by the sum of its objectives: mutated if `mutate`.
    best: Option<(Point, f64)>,
    mutate: bool,
}

#[typetag::serde(name = "testkit-tester")]
impl Optimizer for Tester {
    fn ask(&mut self, space: &dyn Space, n: usize) -> Result<Vec<Trial>> {
        let mut out = Vec::new();
        for _ in 0..n {
            let rng = if self.flaw == Flaw::Forgetful {
                &mut self.unsaved
            } else {
                &mut self.rng
            };
            let mut p = match &self.best {
                Some((b, _)) if self.mutate && rng.random_bool(0.9) => space.mutate(b, rng),
                _ => space.sample(rng),
            };
            if self.flaw == Flaw::OutOfSpace {
                p.0[0] = space.upper_bound().0[0] + 1;
            }
            out.push(self.pending.issue(p));
        }
        Ok(out)
    }

    fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        if self.flaw != Flaw::Sloppy {
            self.pending.complete_all(done, self.objectives)?;
        }
        for d in done {
            // Greedy on the sum of the objectives.
            let s: f64 = d.values.iter().sum();
            if self.best.as_ref().is_none_or(|(_, b)| s < *b) {
                self.best = Some((d.trial.point.clone(), s));
            }
        }
        Ok(())
    }
}

fn builder(flaw: Flaw, mutate: bool) -> impl Fn(&OptimizerSpec) -> Result<Box<dyn Optimizer>> {
    move |spec| {
        let seed = if flaw == Flaw::Unseeded { 0 } else { spec.seed };
        Ok(Box::new(Tester {
            unsaved: fresh_rng(),
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            objectives: spec.num_objectives,
            flaw,
            best: None,
            mutate,
        }))
    }
}

macro_rules! plugin {
    ($fn:ident, $name:literal, $flaw:expr, $mutate:expr) => {
        fn $fn(spec: &OptimizerSpec) -> Result<Box<dyn Optimizer>> {
            builder($flaw, $mutate)(spec)
        }
        inventory::submit! { OptimizerPlugin::new($name, "test plugin", $fn) }
    };
}

plugin!(good, "t-random", Flaw::None, false);
plugin!(greedy, "t-greedy", Flaw::None, true);
plugin!(sloppy, "t-sloppy", Flaw::Sloppy, false);
plugin!(outside, "t-outside", Flaw::OutOfSpace, false);
plugin!(forgetful, "t-forgetful", Flaw::Forgetful, true);
plugin!(unseeded, "t-unseeded", Flaw::Unseeded, false);

fn is_conformance_failure(r: std::result::Result<(), TestkitError>, check: &str) -> bool {
    matches!(r, Err(TestkitError::Conformance { check: c, .. }) if c == check)
}

#[test]
fn a_correct_plugin_passes_checks_one_to_four() {
    conformance::run_all_with("t-random", serde_json::Value::Null, None).unwrap();
    conformance::run_all_with("t-greedy", serde_json::Value::Null, None).unwrap();
}

#[test]
fn broken_plugins_fail_their_check() {
    let null = || serde_json::Value::Null;
    assert!(is_conformance_failure(
        conformance::rejects_bad_tells("t-sloppy", null()),
        "rejects_bad_tells"
    ));
    assert!(is_conformance_failure(
        conformance::valid_asks("t-outside", null()),
        "valid_asks"
    ));
    assert!(is_conformance_failure(
        conformance::checkpoint_round_trip("t-forgetful", null()),
        "checkpoint_round_trip"
    ));
    assert!(is_conformance_failure(
        conformance::deterministic("t-unseeded", null()),
        "deterministic"
    ));
    let err = conformance::valid_asks("no-such-plugin", null()).unwrap_err();
    assert!(err.to_string().contains("t-random"), "{err}");
}

#[test]
fn quality_compares_medians() {
    let null = || serde_json::Value::Null;
    let report = conformance::quality_against("t-greedy", null(), "t-random", null(), 200).unwrap();
    assert_eq!(report.regrets.len(), QUALITY_SEEDS.len());
    assert!(report.median < report.baseline_median, "{report}");
    // Against itself nothing is better.
    let err = conformance::quality_against("t-random", null(), "t-random", null(), 50).unwrap_err();
    assert!(err.to_string().contains("not better"), "{err}");
}

#[test]
fn drive_records_every_evaluation() {
    let problem = problem_by_name("zdt2").unwrap();
    let spec = OptimizerSpec::new(2, 1);
    let mut opt = lopper_core::build_optimizer("t-greedy", &spec).unwrap();
    let trace = drive(opt.as_mut(), problem.as_ref(), 23, 5).unwrap();
    assert_eq!(trace.evaluated.len(), 23);
    assert_eq!(trace.hypervolume.len(), 23);
    assert!(trace.hypervolume.windows(2).all(|w| w[0] <= w[1]));
    let ids: Vec<u64> = trace.evaluated.iter().map(|e| e.trial.id).collect();
    assert_eq!(ids, (0..23).collect::<Vec<_>>());
    let direct = problem.hv_regret(&trace.values()).unwrap();
    assert!((trace.final_regret() - direct).abs() < 1e-12);
    assert!(trace.regret().iter().all(|r| *r >= -1e-12));
    assert!(drive(opt.as_mut(), problem.as_ref(), 5, 0).is_err());
}
