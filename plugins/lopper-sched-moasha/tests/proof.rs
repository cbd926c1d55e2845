//! MO-ASHA proven on a testkit problem with a synthetic fidelity: at the same total resource
//! (sum of fidelities run), random search screened by MO-ASHA finds a better front of
//! completed trials than random search that runs every trial to the end.

// Test helpers panic on a broken setup by design.
#![allow(clippy::expect_used)]

mod common;

use common::{Epochs, MAX_FIDELITY};
use lopper_opt_random as _;
use lopper_sched_moasha as _;
use lopper_search::{Search, SearchConfig};
use lopper_testkit::{Problem, Zdt, ZdtKind};

/// HV regret of the completed trials among the first trials whose summed fidelity stays
/// within `resource`.
fn regret_within(
    problem: &dyn Problem,
    records: &[lopper_search::TrialRecord],
    resource: u32,
) -> f64 {
    let mut used = 0;
    let mut complete = Vec::new();
    for r in records {
        let fidelity = r.fidelity.unwrap_or(MAX_FIDELITY);
        used += fidelity;
        if used > resource {
            break;
        }
        if fidelity == MAX_FIDELITY {
            complete.push(r.values.clone());
        }
    }
    problem
        .hv_regret(&complete)
        .expect("finite objective values")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[test]
fn mo_asha_beats_full_fidelity_random_search_at_equal_resource() {
    let full_trials = 100;
    let resource = full_trials * MAX_FIDELITY;
    let (mut asha, mut plain) = (Vec::new(), Vec::new());
    for seed in 0..5 {
        // ZDT1 on 5 variables (as the conformance suite's quality check): on 30, random search
        // puts no point inside the reference box within this budget.
        let zdt1 = || Zdt::with_size(ZdtKind::Zdt1, 5, 100).unwrap();
        let problem: Box<dyn Problem> = Box::new(zdt1());
        let reference = problem.reference_point();
        let epochs = Epochs(Box::new(zdt1()));

        let mut config = SearchConfig::new("random");
        config.seed = seed;
        config.max_evaluations = Some(full_trials as usize);
        config.reference_point = Some(reference.clone());
        let r = Search::new(problem.as_ref(), &epochs, config.clone())
            .run()
            .unwrap();
        assert!(r.records.iter().all(|t| t.fidelity == Some(MAX_FIDELITY)));
        plain.push(regret_within(problem.as_ref(), &r.records, resource));

        config.scheduler = Some("mo-asha".into());
        config.scheduler_config = serde_json::json!({ "max_fidelity": MAX_FIDELITY });
        config.max_evaluations = Some(resource as usize); // more than the resource allows
        let r = Search::new(problem.as_ref(), &epochs, config)
            .run()
            .unwrap();
        let stopped = r
            .records
            .iter()
            .filter(|t| t.fidelity < Some(MAX_FIDELITY))
            .count();
        assert!(
            stopped > r.records.len() / 2,
            "MO-ASHA stops most trials early"
        );
        asha.push(regret_within(problem.as_ref(), &r.records, resource));
    }
    let (asha, plain) = (median(asha), median(plain));
    println!("median HV regret at {resource} fidelity units: MO-ASHA {asha:.4}, random {plain:.4}");
    assert!(
        asha < plain,
        "median HV regret: MO-ASHA {asha:.4}, full-fidelity random {plain:.4}"
    );
}
