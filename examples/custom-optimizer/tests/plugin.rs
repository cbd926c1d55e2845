//! The example plugin passes the conformance suite every optimizer plugin runs, including the
//! quality check against random search on ZDT1 with 500 evaluations.

use custom_optimizer as _;

#[test]
fn weighted_climber_passes_the_conformance_suite() {
    let report = lopper_testkit::conformance::run_all("weighted-climber", serde_json::Value::Null)
        .unwrap()
        .expect("a non-baseline plugin gets the quality check");
    println!("{report:?}");
}

#[test]
fn a_bad_setting_is_a_clear_error() {
    let spec =
        lopper::core::OptimizerSpec::new(2, 0).with_config(serde_json::json!({"warm_up": 0}));
    let err = lopper::core::build_optimizer("weighted-climber", &spec)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("warm_up must be at least 1"), "{err}");
}
