//! The `lopper` binary as a user runs it.

// Test helpers panic on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod common;
use common::{lopper, root, text};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn pareto_prints_the_non_dominated_rows_with_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "p.csv",
        "error,params\n0.1,0.9\n0.2,0.95\n0.5,0.5\n# note\n0.9,0.1\n0.6,0.6\n",
    );
    let o = lopper(&["pareto", &f]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "error,params\n0.1,0.9\n0.5,0.5\n0.9,0.1\n");
}

#[test]
fn hypervolume_of_the_known_front() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "p.csv", "0,1\n0.5,0.5\n1,0\n");
    let o = lopper(&["hypervolume", "--ref", "2,2", &f]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "3.25");
}

#[test]
fn bad_input_is_one_error_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            write(dir.path(), "a.csv", "x,y\n1,2\n3,oops\n"),
            vec!["a.csv:3", "column 2 (`y`)", "oops"],
        ),
        (
            write(dir.path(), "b.csv", "1,2\n3\n"),
            vec!["b.csv:2", "expected 2 columns, found 1"],
        ),
        (
            write(dir.path(), "c.csv", "x,y\n"),
            vec!["c.csv", "no data rows"],
        ),
        (
            write(dir.path(), "d.csv", "1,nan\n"),
            vec!["d.csv:1", "not a finite number"],
        ),
    ];
    for (file, needles) in cases {
        for args in [
            vec!["pareto", file.as_str()],
            vec!["hypervolume", "--ref", "9,9", file.as_str()],
        ] {
            let o = lopper(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            let err = stderr(&o);
            assert_eq!(err.lines().count(), 1, "{err}");
            for n in &needles {
                assert!(err.contains(n), "{args:?}: `{err}` lacks `{n}`");
            }
        }
    }
    let f = write(dir.path(), "ok.csv", "1,2\n");
    let o = lopper(&["hypervolume", "--ref", "2,2,2", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--ref has 3 coordinates but"),
        "{}",
        stderr(&o)
    );
    let o = lopper(&["hypervolume", "--ref", "2,x", &f]);
    assert_eq!(o.status.code(), Some(2));
    let o = lopper(&["pareto", &dir.path().join("missing.csv").to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.csv"));
    let o = lopper(&["bench-moo", "--optimizer", "nope", "--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "known optimizers: ehvi, local-search, ls-bo, morea, nsga2, parego, random, rs-bo"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn baseline_lists_its_methods_and_refuses_a_missing_run_in_one_line() {
    let o = lopper(&["baseline", "--help"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for name in ["hp ", "rfp ", "ld ", "snas "] {
        assert!(out.contains(name), "{out}");
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-run");
    let o = lopper(&[
        "baseline",
        "rfp",
        "--train-run",
        missing.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a `lopper train` run"), "{err}");
    let o = lopper(&[
        "baseline",
        "rfp",
        "--train-run",
        missing.to_str().unwrap(),
        "--budgets",
        "0.5,2",
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn optimizers_lists_every_bundled_plugin() {
    let o = lopper(&["optimizers"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for name in [
        "random",
        "local-search",
        "nsga2",
        "morea",
        "ehvi",
        "ls-bo",
        "rs-bo",
        "parego",
        "mo-asha",
    ] {
        assert!(out.contains(name), "{out}");
    }
}

#[test]
fn bench_moo_prints_the_trace() {
    let o = lopper(&[
        "bench-moo",
        "--problem",
        "zdt1",
        "--optimizer",
        "nsga2",
        "--budget",
        "50",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("# final hypervolume"), "{out}");
    let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(rows[0], "evaluation,hypervolume,regret");
    assert_eq!(rows.len(), 51);
}

/// A search killed with SIGKILL and started again with the same command resumes, loses no
/// finished trial, and (one worker, evaluation budget, same seed) ends with exactly the result
/// of an uninterrupted run.
#[test]
fn a_killed_search_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let args = |run: &Path| -> Vec<String> {
        [
            "bench-moo",
            "--problem",
            "zdt2",
            "--optimizer",
            "nsga2",
            "--budget",
            "150",
            "--seed",
            "3",
            "--initial-design",
            "--eval-delay-ms",
            "4",
            "--quiet",
            "--run-dir",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([run.to_string_lossy().into_owned()])
        .collect()
    };
    let straight = dir.path().join("straight");
    let reference = Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(args(&straight))
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", stderr(&reference));

    let killed = dir.path().join("killed");
    // Finished trials stored so far (the search's database is read while it writes).
    let logged = |p: &Path| lopper::search::read_trials(p).map_or(0, |t| t.len());
    let mut kills = 0;
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lopper"))
            .args(args(&killed))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let before = logged(&killed);
        // Killed once it has logged 25 more trials (an event, not a time; the long guard
        // only keeps a broken build from hanging the suite).
        let t0 = Instant::now();
        loop {
            let now = logged(&killed);
            if now >= before + 25 || t0.elapsed() > Duration::from_secs(600) {
                break;
            }
            sleep(Duration::from_millis(5));
        }
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !finished {
            kills += 1;
        }
    }
    let logged = logged(&killed);
    assert!(kills >= 1, "the search was never killed mid-run");
    assert!(
        (75..=150).contains(&logged),
        "killed {kills} times mid-run, {logged} trials logged"
    );
    let resumed = Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(args(&killed))
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(stdout(&resumed), stdout(&reference));
    let ids = |p: &Path| -> Vec<u64> {
        lopper::search::read_trials(p)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect()
    };
    let mut got = ids(&killed);
    got.sort_unstable();
    assert_eq!(got, (0..150).collect::<Vec<_>>(), "every trial logged once");
}

#[test]
fn resuming_with_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run").to_string_lossy().into_owned();
    let o = lopper(&["bench-moo", "--budget", "5", "--quiet", "--run-dir", &run]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lopper(&[
        "bench-moo",
        "--budget",
        "5",
        "--seed",
        "9",
        "--quiet",
        "--run-dir",
        &run,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("seed 0"), "{}", stderr(&o));
}

#[test]
fn the_example_pipelines_are_valid() {
    let dir = root().join("examples/pipelines");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let o = lopper(&["run", "--dry-run", path.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "{}: {}",
            path.display(),
            text(&o.stderr)
        );
        let out = text(&o.stdout);
        for stage in ["train", "search", "select", "export", "eval"] {
            assert!(out.contains(stage), "{out}");
        }
        n += 1;
    }
    assert!(n >= 3);
    // A misspelt flag fails before anything runs, naming the stage.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "out = \"o\"\n[train]\ntask = \"rte\"\ndata = \".\"\nmodel = \".\"\n[search]\nbudgett = 3\n",
    )
    .unwrap();
    let o = lopper(&["run", "--dry-run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("line 7: [search] unknown field `budgett`, expected one of"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
