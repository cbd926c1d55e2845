//! The example runs end to end on the tiny real budget of the pipeline test: the real
//! all-MiniLM-L6-v2 and the real movie-review ratings, fetched through the package registry.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use lopper::pipeline::{EvalRecord, FrontFile, FrontMember, Record};

#[test]
fn the_composed_pipeline_trains_searches_selects_exports_and_evaluates() {
    let model = lopper_testkit::assets::minilm().unwrap();
    let data = lopper_testkit::assets::movie_reviews().unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_compose-pipeline"))
        .arg(&model)
        .arg(&data)
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("trained 2 steps"), "{stdout}");

    // The front carries the example's own objective, and every member's values lie in range.
    let front = FrontFile::read(&out.path().join("search/front.json")).unwrap();
    let names: Vec<&str> = front.objectives.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["error", "params", "heads"]);
    for m in &front.front {
        let heads = m.subnet.total_heads() as f64 / (6.0 * 12.0);
        assert_eq!(m.values[2], heads, "{}", m.summary);
    }
    let chosen = FrontMember::read(&out.path().join("selected.json")).unwrap();
    assert!(chosen.values[1] <= 0.9);
    // The exported model scores on the test set what its sub-network scored in the search.
    let eval = EvalRecord::read(&out.path().join("eval.json")).unwrap();
    assert_eq!(eval.examples, 40);
    let test_error = chosen.test_error.unwrap();
    assert!((eval.score - (1.0 - test_error)).abs() < 1e-12, "{eval:?}");
}
