//! `lopper train` and `lopper split` as a user runs them, on a tiny BERT (the reference
//! fixture without a head, given a word-piece vocabulary) and the RTE fixture in the GLUE
//! layout.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{lopper, lopper_with_input, root, text};

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", ",", "the", "won", "is", "in", "a", "workers", "was",
    "team", "storm", "school", "river", "law", "honey", "hired", "he", "floods", "firm", "film",
    "doctor", "coast", "car", "bees", "awards", "anna", "lost", "missed",
];

fn glue() -> String {
    root()
        .join("crates/lopper-data/tests/fixtures/glue")
        .to_string_lossy()
        .into_owned()
}

/// The tiny BERT of the reference fixtures, with a vocabulary.
fn tiny_model(dir: &Path) -> String {
    let src = root().join("tests/fixtures/reference/tiny-bert");
    let dst = dir.join("tiny-bert");
    fs::create_dir_all(&dst).unwrap();
    for f in ["config.json", "model.safetensors"] {
        fs::copy(src.join(f), dst.join(f)).unwrap();
    }
    fs::write(dst.join("vocab.txt"), VOCAB.join("\n")).unwrap();
    dst.to_string_lossy().into_owned()
}

/// A temporary folder holding the tiny model, and the run folder to train into there.
fn tiny_run() -> (tempfile::TempDir, String, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let out = tmp.path().join("run");
    (tmp, model, out)
}

#[test]
fn train_writes_a_run_scores_the_test_split_and_resumes_when_run_again() {
    let (_tmp, model, out) = tiny_run();
    let out_s = out.to_string_lossy().into_owned();
    let glue = glue();
    let args = [
        "train",
        "--task",
        "rte",
        "--data",
        &glue,
        "--model",
        &model,
        "--strategy",
        "sandwich",
        "--out",
        &out_s,
        "--epochs",
        "2",
        "--batch-size",
        "2",
        "--max-len",
        "32",
        "--lr",
        "1e-3",
        "--quiet",
    ];
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // 10 RTE fixture rows: 7 train (4 steps an epoch), 3 validation; the 3 dev rows are the test.
    assert!(
        stdout.contains("epoch 1  step 4  validation accuracy: largest"),
        "{stdout}"
    );
    assert!(stdout.contains("epoch 2  step 8"), "{stdout}");
    assert!(stdout.contains("8 steps"), "{stdout}");
    assert!(stdout.contains("test (3 examples, the official dev split) largest: accuracy"));
    assert!(stdout.contains("smallest: accuracy"), "{stdout}");
    for f in [
        "train.json",
        "metrics.jsonl",
        "test.json",
        "last/model.safetensors",
        "last/config.json",
        "last/vocab.txt",
        "last/optimizer.bpk",
        "best/model.safetensors",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let settings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("train.json")).unwrap()).unwrap();
    assert_eq!(settings["meta"]["task"], "rte");
    assert_eq!(settings["meta"]["split"]["protocol"], "paper");
    assert_eq!(settings["fit"]["train"]["strategy"], "sandwich");
    let weights = fs::read(out.join("last/model.safetensors")).unwrap();

    // Run again: nothing left to train, the same weights.
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("(resumed)"));
    assert_eq!(
        fs::read(out.join("last/model.safetensors")).unwrap(),
        weights
    );

    // Other settings on the folder: one error line, exit 2.
    let mut other = args.to_vec();
    other[8] = "full";
    let o = lopper(&other);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("lopper: error:") && err.contains("other settings"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn rewiring_is_recorded_and_another_on_the_same_folder_is_refused() {
    let (_tmp, model, out) = tiny_run();
    let out_s = out.to_string_lossy().into_owned();
    let glue = glue();
    let mut args = vec![
        "train",
        "--task",
        "rte",
        "--data",
        &glue,
        "--model",
        &model,
        "--out",
        &out_s,
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--max-len",
        "32",
        "--rewire",
        "--rewire-examples",
        "4",
        "--quiet",
    ];
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let settings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("train.json")).unwrap()).unwrap();
    assert_eq!(settings["meta"]["rewire"], 4);
    let recorded = fs::read_to_string(out.join("rewiring.json")).unwrap();
    let rewiring: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(rewiring["examples"], 4);
    assert!(rewiring["tokens"].as_u64().unwrap() > 4);
    let heads = rewiring["order"]["heads"].as_array().unwrap();
    let units = rewiring["order"]["units"].as_array().unwrap();
    assert!(!heads.is_empty() && heads.len() == units.len());

    // The same command resumes (the same order); another rewiring is refused and leaves the
    // recorded one as it was.
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let i = args.iter().position(|a| *a == "--rewire-examples").unwrap();
    args[i + 1] = "3";
    let o = lopper(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("rewired otherwise"), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("rewiring.json")).unwrap(),
        recorded
    );
}

#[test]
fn bad_train_flags_are_one_error_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let out = tmp.path().join("run").to_string_lossy().into_owned();
    let glue = glue();
    let missing = tmp.path().join("nowhere").to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 5] = [
        (&["--strategy", "nope"], "unknown strategy `nope`"),
        (&["--task", "nope"], "unknown task `nope`"),
        (&["--space", "huge"], "--space"),
        (&["--data", &missing], "no such folder"),
        (&["--model", &missing], "nowhere"),
    ];
    for (change, expected) in cases {
        let mut args = vec![
            "train", "--task", "rte", "--data", &glue, "--model", &model, "--out", &out, "--quiet",
        ];
        for pair in change.chunks(2) {
            match args.iter().position(|a| *a == pair[0]) {
                Some(i) => args[i + 1] = pair[1],
                None => args.extend_from_slice(pair),
            }
        }
        let o = lopper(&args);
        assert_eq!(o.status.code(), Some(2), "{change:?}");
        let err = text(&o.stderr);
        assert!(err.starts_with("lopper: error:"), "{change:?}: {err}");
        assert!(err.contains(expected), "{change:?}: {err}");
    }
}

#[test]
fn split_writes_the_sets_train_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("split");
    let out_s = out.to_string_lossy().into_owned();
    let o = lopper(&["split", "--task", "rte", "--data", &glue(), "--out", &out_s]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let lines = |f: &str| fs::read_to_string(out.join(f)).unwrap().lines().count();
    assert_eq!(
        (
            lines("train.jsonl"),
            lines("validation.jsonl"),
            lines("test.jsonl")
        ),
        (7, 3, 3)
    );
    let first: serde_json::Value = serde_json::from_str(
        fs::read_to_string(out.join("train.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(first["text"].is_string() && first["pair"].is_string());
    assert!(first["label"]["Class"].is_u64());
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("split.json")).unwrap()).unwrap();
    assert_eq!(record["seed"], 0);
    assert_eq!(record["official_train"], 10);
}

#[test]
fn search_writes_the_front_of_a_trained_run_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_model(tmp.path());
    let run = tmp.path().join("run").to_string_lossy().into_owned();
    let glue = glue();
    let o = lopper(&[
        "train",
        "--task",
        "rte",
        "--data",
        &glue,
        "--model",
        &model,
        "--strategy",
        "sandwich",
        "--out",
        &run,
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--max-len",
        "32",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = tmp.path().join("search");
    let out_s = out.to_string_lossy().into_owned();
    let args = [
        "search",
        "--train-run",
        &run,
        "--optimizer",
        "random",
        "--objectives",
        r#"error,params={"count":"dense"}"#,
        "--budget",
        "10",
        "--out",
        &out_s,
        "--quiet",
    ];
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("10 evaluations"), "{stdout}");
    let csv = fs::read_to_string(out.join("front.csv")).unwrap();
    assert!(
        csv.starts_with("id,subnet,error,params,test_error\n"),
        "{csv}"
    );
    assert!(csv.lines().count() >= 2);
    let front: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("front.json")).unwrap()).unwrap();
    assert_eq!(front["objectives"][1]["name"], "params");
    assert_eq!(front["reference_point"], serde_json::json!([1.0, 1.0]));
    assert_eq!(
        fs::read_to_string(out.join("hypervolume.csv"))
            .unwrap()
            .lines()
            .count(),
        11
    );
    assert_eq!(lopper::search::read_trials(&out).unwrap().len(), 10);
    // Again: everything is replayed from the run folder, nothing re-evaluated.
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("10 replayed"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(fs::read_to_string(out.join("front.csv")).unwrap(), csv);
    // The same search through a trial store, evaluated by two `lopper worker` processes that
    // each load the super-network once: the same front (the random optimizer's asks do not
    // depend on its tells, so even another number of trials in flight gives it).
    let store = format!("sqlite:{}", tmp.path().join("trials.db").display());
    let worker = || {
        Command::new(env!("CARGO_BIN_EXE_lopper"))
            .args(["worker", "--store", &store, "--study", "tiny", "--quiet"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let workers = [worker(), worker()];
    let stored = tmp.path().join("stored").to_string_lossy().into_owned();
    let mut through_store = args.to_vec();
    through_store.truncate(args.len() - 3);
    through_store.extend([
        "--out",
        &stored,
        "--parallel",
        "2",
        "--store",
        &store,
        "--study",
        "tiny",
        "--quiet",
    ]);
    let mut coordinator = Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(&through_store)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A coordinator waits for workers that may come later: bound the wait here.
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = coordinator.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(300) {
            coordinator.kill().unwrap();
            let errors: Vec<String> = workers
                .into_iter()
                .map(|mut w| {
                    w.kill().unwrap();
                    text(&w.wait_with_output().unwrap().stderr)
                })
                .collect();
            panic!("the coordinator did not finish; the workers said {errors:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let o = coordinator.wait_with_output().unwrap();
    assert!(status.success(), "{}", text(&o.stderr));
    let mut recorded = 0;
    for w in workers {
        let o = w.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        let line = text(&o.stdout);
        let n: usize = line
            .strip_prefix("worker done: ")
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        recorded += n;
    }
    assert_eq!(recorded, 10);
    assert_eq!(
        fs::read_to_string(Path::new(&stored).join("front.csv")).unwrap(),
        csv
    );
    // The output folder keeps a copy of the study's trials, the threaded run's.
    let copy = lopper::search::read_trials(Path::new(&stored)).unwrap();
    let threaded = lopper::search::read_trials(&out).unwrap();
    let points = |t: &[lopper::search::TrialRecord]| -> Vec<Vec<i64>> {
        t.iter().map(|r| r.point.coords().to_vec()).collect()
    };
    assert_eq!(points(&copy), points(&threaded));
    // Pick from the front: the lowest error within a size budget, or the smallest within an
    // error budget.
    let members = front["front"].as_array().unwrap();
    let o = lopper(&["select", &out_s, "--max-params", "1.0"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let chosen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let best = members
        .iter()
        .map(|m| m["values"][0].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen["values"][0].as_f64().unwrap(), best);
    let o = lopper(&["select", &out_s, "--max-error-increase", "1.0"]);
    let chosen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let smallest = members
        .iter()
        .map(|m| m["values"][1].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen["values"][1].as_f64().unwrap(), smallest);
    for (flags, expected) in [
        (vec!["--max-params", "0.0"], "fits the budget"),
        (vec!["--max-latency-ms", "5"], "no `latency` objective"),
        (vec![], "give a budget"),
    ] {
        let mut a = vec!["select", out_s.as_str()];
        a.extend(flags);
        let o = lopper(&a);
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o.stderr).contains(expected), "{}", text(&o.stderr));
    }
    // Export the chosen member: the dense model embeds exactly as the sub-network inside the
    // trained super-network does.
    let selected = tmp.path().join("selected.json");
    let o = lopper(&["select", &out_s, "--max-params", "1.0"]);
    fs::write(&selected, &o.stdout).unwrap();
    let spec = format!("@{}", selected.display());
    let dense = tmp.path().join("dense").to_string_lossy().into_owned();
    let best = format!("{run}/best");
    let o = lopper(&[
        "export", "--model", &best, "--subnet", &spec, "--out", &dense,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("parameters"),
        "{}",
        text(&o.stdout)
    );
    let embed = |args: &[&str]| -> String {
        let mut all = vec!["embed"];
        all.extend_from_slice(args);
        let out = lopper_with_input(&all, "the team won the law\nanna is a doctor\n");
        assert!(out.status.success());
        text(&out.stdout)
    };
    let sliced = embed(&["--model", &best, "--subnet", &spec, "--max-len", "32"]);
    let exported = embed(&["--model", &dense, "--max-len", "32"]);
    assert_eq!(sliced.lines().count(), 2);
    assert_eq!(sliced, exported);
    // And a sub-network that keeps a layer with some heads and units (the selection above
    // may keep none).
    let o = lopper(&[
        "export",
        "--model",
        &best,
        "--subnet",
        "small:1,2,12",
        "--out",
        &dense,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let sliced = embed(&[
        "--model",
        &best,
        "--subnet",
        "small:1,2,12",
        "--max-len",
        "32",
    ]);
    assert_eq!(sliced, embed(&["--model", &dense, "--max-len", "32"]));
    assert_ne!(sliced, exported);
    // `lopper eval` scores the exported model as the sub-network inside the super-network.
    let eval = |extra: &[&str]| -> String {
        let mut a = vec![
            "eval",
            "--task",
            "rte",
            "--data",
            &glue,
            "--max-len",
            "32",
            "--latency",
            r#"{"seq_len":16,"repetitions":3}"#,
        ];
        a.extend_from_slice(extra);
        let o = lopper(&a);
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let whole = eval(&["--model", &dense]);
    let inside = eval(&["--model", &best, "--subnet", "small:1,2,12"]);
    let metric = |s: &str| s.lines().find(|l| l.contains("set:")).unwrap().to_string();
    assert_eq!(metric(&whole), metric(&inside));
    assert!(
        metric(&whole).starts_with("rte Test set: 3 examples, accuracy"),
        "{whole}"
    );
    let params = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("parameters:"))
            .unwrap()
            .to_string()
    };
    assert_eq!(params(&whole), params(&inside));
    assert!(
        whole.contains("latency: ") && whole.contains("ms median"),
        "{whole}"
    );

    // An unknown objective: one error line naming the known ones, exit 2.
    let o = lopper(&[
        "search",
        "--train-run",
        &run,
        "--objectives",
        "error,size",
        "--out",
        &out_s,
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown objective `size`") && err.contains("latency"),
        "{err}"
    );
}

#[test]
fn a_diverging_run_stops_with_one_error_line_and_keeps_its_last_checkpoint() {
    let (_tmp, model, out) = tiny_run();
    let out_s = out.to_string_lossy().into_owned();
    let glue = glue();
    let o = lopper(&[
        "train",
        "--task",
        "rte",
        "--data",
        &glue,
        "--model",
        &model,
        "--strategy",
        "standard",
        "--out",
        &out_s,
        "--lr",
        "1e12",
        "--batch-size",
        "2",
        "--max-len",
        "32",
        "--checkpoint-every",
        "1",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("lopper: error: the loss is") && err.contains("lower learning rate"),
        "{err}"
    );
    // The step named is the one whose loss was not finite; the last checkpoint is the step
    // before it, and no `best/` of broken weights was written.
    let step: usize = err
        .split("at step ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("last/state.json")).unwrap()).unwrap();
    assert_eq!(
        state["trainer"]["step"].as_u64().unwrap() as usize,
        step - 1
    );
    assert!(!out.join("best").exists());
    assert!(!out.join("summary.json").exists());
}

#[test]
fn a_run_made_with_relative_paths_is_searched_from_another_directory() {
    let tmp = tempfile::tempdir().unwrap();
    tiny_model(tmp.path());
    let glue_copy = tmp.path().join("glue");
    fs::create_dir_all(glue_copy.join("RTE")).unwrap();
    for f in ["train.tsv", "dev.tsv"] {
        fs::copy(
            Path::new(&glue()).join("RTE").join(f),
            glue_copy.join("RTE").join(f),
        )
        .unwrap();
    }
    // Trained from inside the folder, naming the data, the model and the run relatively.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lopper"))
        .current_dir(tmp.path())
        .args([
            "train",
            "--task",
            "rte",
            "--data",
            "glue",
            "--model",
            "tiny-bert",
            "--out",
            "run",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--max-len",
            "32",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("run/train.json")).unwrap())
            .unwrap();
    let data = record["meta"]["data"].as_str().unwrap();
    assert!(Path::new(data).is_absolute(), "{data}");
    // Searched from elsewhere: the recorded folders are found.
    let elsewhere = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run").to_string_lossy().into_owned();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lopper"))
        .current_dir(elsewhere.path())
        .args([
            "search",
            "--train-run",
            &run,
            "--optimizer",
            "random",
            "--budget",
            "3",
            "--out",
            "search",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(elsewhere.path().join("search/front.json").is_file());
}

/// Your own data: a folder of CSV files with a sentence-pair mapping, the labels read from
/// the training file, the record keeping them, the run resumed from that record, and the
/// test file scored by `lopper eval` with the same flags.
#[test]
fn train_and_eval_take_your_own_csv_files() {
    let (tmp, model, out) = tiny_run();
    let data = tmp.path().join("mine");
    fs::create_dir_all(&data).unwrap();
    let pairs = [
        ("the team won", "the team lost", "no"),
        ("the firm hired workers", "workers was hired", "yes"),
        ("bees in the river", "honey in the river", "no"),
        ("the storm floods the coast", "floods in the coast", "yes"),
        ("anna is a doctor", "anna is a doctor", "yes"),
        ("he missed the car", "he won the car", "no"),
        ("the school won awards", "the school won", "yes"),
        ("the film lost", "the film won awards", "no"),
    ];
    let csv = |rows: &[(&str, &str, &str)]| {
        let mut s = String::from("first,second,verdict\n");
        for (a, b, y) in rows {
            s.push_str(&format!("\"{a}\",\"{b}\",{y}\n"));
        }
        s
    };
    fs::write(data.join("train.csv"), csv(&pairs)).unwrap();
    fs::write(data.join("test.csv"), csv(&pairs[..3])).unwrap();
    let (data_s, out_s) = (data.to_string_lossy(), out.to_string_lossy());
    let own = [
        "--task",
        "classification",
        "--data",
        &data_s,
        "--text-column",
        "first",
        "--text-column",
        "second",
        "--label-column",
        "verdict",
    ];
    let mut args = vec!["train"];
    args.extend(own);
    args.extend(one_quick_epoch(&model, &out_s));
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // 8 training rows: 5 train, 3 validation (the paper's 70/30); the test file is the test.
    assert!(stdout.contains("test (3 examples"), "{stdout}");
    let settings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("train.json")).unwrap()).unwrap();
    let task = &settings["meta"]["task"];
    assert_eq!(task["kind"], "classification", "{task}");
    assert_eq!(task["labels"], serde_json::json!(["no", "yes"]), "{task}");
    assert_eq!(task["text_columns"], serde_json::json!(["first", "second"]));
    // The record reads back: run again and it resumes.
    let o = lopper(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("(resumed)"));

    let best = out.join("best").to_string_lossy().into_owned();
    let mut eval = vec![
        "eval",
        "--model",
        &best,
        "--set",
        "test",
        "--max-len",
        "32",
        "--latency",
        r#"{"seq_len":16,"repetitions":3}"#,
    ];
    eval.extend(own);
    let o = lopper(&eval);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("3 examples, accuracy"),
        "{}",
        text(&o.stdout)
    );

    // A column that is not there: one line naming the file and the columns it has.
    let mut bad = args.clone();
    let at = bad.iter().position(|a| *a == "verdict").unwrap();
    bad[at] = "label";
    let o = lopper(&bad);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("train.csv")
            && err.contains("missing column `label`")
            && err.contains("first, second, verdict"),
        "{err}"
    );
    // Own-data flags on a named task are refused.
    let o = lopper(&[
        "train",
        "--task",
        "rte",
        "--data",
        &glue(),
        "--model",
        &model,
        "--text-column",
        "x",
        "--out",
        &out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("are for your own data"),
        "{}",
        text(&o.stderr)
    );
}

/// The flags of one `standard` epoch of `model` into `out`, batch 2, 32 tokens, quiet.
fn one_quick_epoch<'a>(model: &'a str, out: &'a str) -> [&'a str; 13] {
    [
        "--model",
        model,
        "--strategy",
        "standard",
        "--out",
        out,
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--max-len",
        "32",
        "--quiet",
    ]
}

/// Writes `rows` (sentence1, sentence2, label) as a Snappy Parquet file, as the hub stores a
/// dataset's split.
fn write_pairs_parquet(path: &Path, rows: &[(&str, &str, i64)]) {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let schema = "message pairs { required binary sentence1 (UTF8); required binary sentence2 (UTF8); required int64 label; }";
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(fs::File::create(path).unwrap(), schema, props).unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        match index {
            0 | 1 => {
                let values: Vec<ByteArray> = rows
                    .iter()
                    .map(|r| ByteArray::from(if index == 0 { r.0 } else { r.1 }))
                    .collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
            _ => {
                let values: Vec<i64> = rows.iter().map(|r| r.2).collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
        }
        column.close().unwrap();
        index += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();
}

/// A hub dataset id (`hf:ORG/NAME:CONFIG`) is read from the hub cache that `HF_HOME` names,
/// with no network: its Parquet files in the hub's layout, the validation split as the test set.
#[test]
fn train_takes_a_hub_dataset_from_the_cache() {
    let (tmp, model, out) = tiny_run();
    let home = tmp.path().join("hf-home");
    let repo = home.join("hub").join("datasets--org--pairs");
    let config = repo.join("snapshots").join("0123abcd").join("pairs");
    fs::create_dir_all(&config).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs").join("main"), "0123abcd").unwrap();
    let rows = [
        ("the team won", "the team lost", 0),
        ("the firm hired workers", "workers was hired", 1),
        ("bees in the river", "honey in the river", 0),
        ("the storm floods the coast", "floods in the coast", 1),
        ("anna is a doctor", "anna is a doctor", 1),
        ("he missed the car", "he won the car", 0),
        ("the school won awards", "the school won", 1),
        ("the film lost", "the film won awards", 0),
        ("the law is in the river", "the law is in a river", 1),
        ("he is a doctor", "anna is a doctor", 0),
    ];
    write_pairs_parquet(&config.join("train-00000-of-00001.parquet"), &rows);
    write_pairs_parquet(
        &config.join("validation-00000-of-00001.parquet"),
        &rows[..4],
    );
    let out_s = out.to_string_lossy();
    let args = [
        "train",
        "--task",
        "classification",
        "--data",
        "hf:org/pairs:pairs",
        "--text-column",
        "sentence1",
        "--text-column",
        "sentence2",
        "--label-column",
        "label",
        "--test-split",
        "validation",
    ]
    .into_iter()
    .chain(one_quick_epoch(&model, &out_s))
    .collect::<Vec<_>>();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(&args)
        .env("HF_HOME", &home)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // 10 training rows: 7 train, 3 validation; the hub's validation split is the test set.
    assert!(stdout.contains("test (4 examples"), "{stdout}");
    let settings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("train.json")).unwrap()).unwrap();
    assert_eq!(
        settings["meta"]["task"]["labels"],
        serde_json::json!(["0", "1"]),
        "{settings}"
    );
    // Without the cache (another HF_HOME, offline) it is one clear line, not a panic.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(&args)
        .env("HF_HOME", tmp.path().join("empty"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("hub dataset org/pairs is not in the hub cache")
            && err.contains("HF_HUB_OFFLINE"),
        "{err}"
    );
}
