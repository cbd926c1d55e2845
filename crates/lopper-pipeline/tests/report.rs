//! The report of a search folder made by the stages' own writers: the trial log appended by
//! the search's run store, the front and the hypervolume trace written by their writers.

#![allow(clippy::unwrap_used)]

use lopper_core::{Arch, Objective, Point, Subnet};
use lopper_pipeline::{
    FrontFile, FrontMember, FullNetwork, PipelineError, Record, SearchDir, search_plots,
    write_hypervolume, write_report,
};
use lopper_search::{RunStore, TrialRecord};

fn arch() -> Arch {
    Arch {
        num_layers: 2,
        num_heads: 2,
        head_dim: 4,
        hidden_size: 8,
        intermediate_size: 4,
        vocab_size: 10,
        max_positions: 16,
        type_vocab_size: 2,
    }
}

/// A search folder: five trials, a front of two, a hypervolume trace.
fn search_folder(dir: &SearchDir) -> FrontFile {
    let mut store = RunStore::open(dir.path()).unwrap().store;
    let values = [
        [0.47, 0.74],
        [0.42, 0.85],
        [0.41, 0.87],
        [0.45, 0.60],
        [0.50, 0.90],
    ];
    for (i, v) in values.iter().enumerate() {
        store
            .append(&TrialRecord {
                id: i as u64,
                point: Point(vec![2, 1, 3]),
                values: v.to_vec(),
                fidelity: None,
                eval_seconds: 1.5,
                finished_at: i as f64,
                info: serde_json::Value::Null,
                failure: None,
            })
            .unwrap();
    }
    let full = Subnet::full(&arch());
    let member = |id: u64, e: f64, p: f64| FrontMember {
        id,
        point: Some(Point(vec![2, 1, 3])),
        subnet: full.clone(),
        summary: format!("member {id}"),
        values: vec![e, p],
        test_error: Some(e + 0.05),
        info: serde_json::Value::Null,
        model: None,
    };
    let front = FrontFile {
        objectives: vec![
            Objective::minimize("error", "fraction"),
            Objective::minimize("params", "fraction"),
        ],
        reference_point: Some(vec![1.0, 1.0]),
        front: vec![member(2, 0.41, 0.87), member(3, 0.45, 0.60)],
        full: FullNetwork {
            summary: full.to_string(),
            values: vec![0.40, 1.0],
            test_error: Some(0.38),
        },
    };
    front.write(&dir.front()).unwrap();
    write_hypervolume(&[0.1, 0.15, 0.2, 0.2, 0.25], &dir.hypervolume()).unwrap();
    front
}

fn font() -> bool {
    lopper_report::load_font().is_ok()
}

#[test]
fn a_search_report_has_the_front_the_trials_and_the_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = SearchDir::new(tmp.path());
    let front = search_folder(&dir);
    let (md, html) = write_report(dir.path()).unwrap();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("5 trials (0 failed); 2 on the Pareto front; final hypervolume 0.2500 (reference point 1, 1)."),
        "{md}"
    );
    assert!(
        md.contains("| 2 | member 2 | 0.4100 | 0.8700 | 0.4600 |"),
        "{md}"
    );
    assert!(
        md.contains("The full model: error 0.4000, params 1, test error 0.3800."),
        "{md}"
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(!html.contains("src=\"http"));
    if font() {
        assert!(
            md.contains("![The trials and the Pareto front](plots/front.png)"),
            "{md}"
        );
        assert!(html.contains("<svg"));
        let files = search_plots(&dir, &front).unwrap();
        assert_eq!(files.len(), 4);
        for f in files {
            assert!(
                std::fs::metadata(&f).unwrap().len() > 1000,
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn a_folder_that_is_no_run_or_holds_a_broken_record_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    match write_report(tmp.path()) {
        Err(e @ PipelineError::NotARun { .. }) => {
            assert!(e.to_string().contains("not a lopper run folder"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let dir = SearchDir::new(tmp.path());
    search_folder(&dir);
    std::fs::write(dir.front(), "{\"front\": [").unwrap();
    let e = write_report(dir.path()).unwrap_err().to_string();
    assert!(e.contains("front.json"), "{e}");
}
