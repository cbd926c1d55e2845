//! `paper methods --scale smoke` end to end with the real binary on the real assets: every
//! method's unit writes its rows (a front whose members respect the encoder fractions they
//! report), a rerun skips every unit and adds nothing, and `paper report` makes the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn paper(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_paper"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "paper {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn rows(csv: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(csv).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_smoke_methods_study_runs_every_method_once_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("runs");
    let results = tmp.path().join("results");
    let common = [
        "--scale",
        "smoke",
        "--quiet",
        "--runs",
        runs.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
    ];
    let mut args = vec!["methods"];
    args.extend(common);
    paper(&args);

    let csv = results.join("methods.csv");
    let first = rows(&csv);
    // Columns: scale, task, method, seed, kind, id, params, encoder_params, validation_error,
    // test_error, subnet, seconds, commit, settings.
    for method in ["rfp", "hp", "ld", "ws-nas", "snas"] {
        let of: Vec<&Vec<String>> = first.iter().filter(|r| r[2] == method).collect();
        assert!(
            of.iter().any(|r| r[4] == "full") && of.iter().any(|r| r[4] == "member"),
            "{method}: no unpruned row or no member"
        );
        for r in &of {
            let enc: f64 = r[7].parse().unwrap();
            let params: f64 = r[6].parse().unwrap();
            assert!(
                (0.0..=1.0).contains(&enc) && params >= enc,
                "{method}: {r:?}"
            );
            assert!(!r[9].is_empty(), "{method}: no test error in {r:?}");
        }
    }
    // RFP's members respect the smoke scale's encoder fractions 0.9, 0.7, 0.5, one each.
    let rfp: Vec<f64> = first
        .iter()
        .filter(|r| r[2] == "rfp" && r[4] == "member")
        .map(|r| r[7].parse().unwrap())
        .collect();
    assert_eq!(rfp.len(), 3);
    for (got, budget) in rfp.iter().zip([0.9, 0.7, 0.5]) {
        assert!(*got <= budget + 1e-9, "RFP member at {got} over {budget}");
    }
    // LD drops the top 1, 3 and 5 layers: encoder fractions 5/6, 3/6, 1/6.
    let mut ld: Vec<f64> = first
        .iter()
        .filter(|r| r[2] == "ld" && r[4] == "member")
        .map(|r| r[7].parse().unwrap())
        .collect();
    ld.sort_by(f64::total_cmp);
    let want: Vec<f64> = [1.0, 3.0, 5.0].iter().map(|k| k / 6.0).collect();
    assert_eq!(ld.len(), want.len());
    for (g, w) in ld.iter().zip(&want) {
        assert!((g - w).abs() < 1e-9, "LD {ld:?}");
    }

    // A rerun skips every unit.
    let again = paper(&args);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("5 units, 5 done, 0 to run"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(rows(&csv), first);

    let mut report = vec!["report", "--results"];
    report.push(results.to_str().unwrap());
    paper(&report);
    let md = std::fs::read_to_string(results.join("methods-smoke.md")).unwrap();
    for ext in ["svg", "png"] {
        let figure = results.join(format!("methods-smoke-movie-reviews.{ext}"));
        assert!(figure.is_file(), "no {}", figure.display());
    }
    for method in ["rfp", "hp", "ld", "ws-nas", "snas"] {
        assert!(
            md.contains(&format!("| {method} | ")),
            "{method} missing:\n{md}"
        );
    }
}
