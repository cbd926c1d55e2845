//! The main job's pipeline (`lopper run`) end to end on real data with a tiny budget: the real
//! all-MiniLM-L6-v2 and the real movie-review ratings, both fetched through the package
//! registry. The model is named by its hub id and found in a local folder laid out as the
//! Hugging Face hub cache, the path a user with a network takes.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::text;

const HUB_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// `HF_HOME` with the model in the hub cache's layout: `hub/models--org--name/refs/main`
/// naming a snapshot whose files link to the real ones.
fn hub_home(dir: &Path, model: &Path) -> std::path::PathBuf {
    let repo = dir.join("hf/hub/models--sentence-transformers--all-MiniLM-L6-v2");
    let rev = "8b3219a92973c328a8e22fadcfa821b5dc75636a";
    let snapshot = repo.join("snapshots").join(rev);
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs/main"), rev).unwrap();
    fs::create_dir_all(&snapshot).unwrap();
    for entry in fs::read_dir(model).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::os::unix::fs::symlink(entry.path(), snapshot.join(entry.file_name())).unwrap();
        }
    }
    dir.join("hf")
}

fn run(config: &Path, hf_home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(["run", "--quiet"])
        .arg(config)
        .env("HF_HOME", hf_home)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_pipeline_prunes_minilm_on_real_reviews_and_resumes() {
    let model = lopper_testkit::assets::minilm().unwrap();
    let data = lopper_testkit::assets::movie_reviews().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let hf_home = hub_home(tmp.path(), &model);
    let out = tmp.path().join("run");
    let config = tmp.path().join("pipeline.toml");
    fs::write(
        &config,
        format!(
            r#"out = "{out}"
[train]
task = "movie-reviews"
data = "{data}"
model = "{HUB_ID}"
strategy = "full"
train_limit = 16
validation_limit = 24
test_limit = 40
epochs = 1
batch_size = 8
lr = 1e-4
max_len = 32
rewire = true
rewire_examples = 8
[search]
budget = 4
initial_design = true
[select]
max_params = 0.9
[eval]
limit = 40
latency = {{ batch_size = 2, seq_len = 32, warmup = 1, repetitions = 3 }}
"#,
            out = out.display(),
            data = data.display(),
        ),
    )
    .unwrap();

    let o = run(&config, &hf_home);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("front of"), "{stdout}");

    // Every stage's output, and the figures agree across stages.
    let summary = json(&out.join("train/summary.json"));
    assert_eq!(summary["steps"], 2);
    let train = json(&out.join("train/train.json"));
    assert_eq!(train["meta"]["model"], HUB_ID);
    // Rewired before training: each layer's order is a permutation, and recorded.
    assert_eq!(train["meta"]["rewire"], 8);
    let rewiring = json(&out.join("train/rewiring.json"));
    let heads = rewiring["order"]["heads"].as_array().unwrap();
    assert_eq!(heads.len(), 6);
    for layer in heads {
        let mut order: Vec<u64> = layer
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        order.sort_unstable();
        assert_eq!(order, (0..12).collect::<Vec<u64>>());
    }
    let front = json(&out.join("search/front.json"));
    assert!(front["full"]["values"].is_array(), "{front}");
    let trials = lopper::search::read_trials(&out.join("search")).unwrap();
    assert_eq!(trials.len(), 4);
    for plot in ["front", "hypervolume"] {
        for ext in ["svg", "png"] {
            let p = out.join(format!("search/plots/{plot}.{ext}"));
            assert!(fs::metadata(&p).unwrap().len() > 1000, "{}", p.display());
        }
    }
    let selected = json(&out.join("selected.json"));
    assert!(selected["values"][1].as_f64().unwrap() <= 0.9);
    let eval = json(&out.join("eval.json"));
    assert_eq!(eval["examples"], 40);
    assert_eq!(eval["set"], "test");
    // The exported dense model scores on the test set exactly what the sliced sub-network
    // scored inside the super-network during the search.
    let test_error = selected["test_error"].as_f64().unwrap();
    assert!(
        (eval["score"].as_f64().unwrap() - (1.0 - test_error)).abs() < 1e-12,
        "{eval} vs {selected}"
    );
    assert_eq!(
        eval["params"].as_u64().unwrap(),
        selected["info"]["dense_params"].as_u64().unwrap()
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("src=\"http"));
    // The report leads with the answer: the selected model against the unpruned one, then
    // the front; the configuration comes last.
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let at = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in {md}"))
    };
    assert!(
        at("## Result") < at("Pareto front](search/plots/front.png)"),
        "{md}"
    );
    assert!(
        at("Pareto front](search/plots/front.png)") < at("## Search"),
        "{md}"
    );
    assert!(at("## Training") < at("## Configuration"), "{md}");
    let params = eval["params"].as_u64().unwrap();
    assert!(md.contains(&format!("| parameters | {params} (")), "{md}");
    let unpruned = &eval["unpruned"];
    assert!(unpruned["params"].as_u64().unwrap() > params, "{eval}");
    assert!(
        unpruned["latency_ms"]["median"].as_f64().unwrap() > 0.0,
        "{eval}"
    );
    assert_eq!(
        unpruned["score"], summary["test"]["largest"]["score"],
        "{eval}"
    );

    // Run again: every stage is found done.
    let o = run(&config, &hf_home);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert_eq!(stderr.matches("skipped").count(), 5, "{stderr}");

    // A stage table that sets what the pipeline joins: one error line, exit 2.
    fs::write(
        &config,
        "out = \"x\"\n[train]\ntask = \"rte\"\nout = \"y\"\n",
    )
    .unwrap();
    let o = run(&config, &hf_home);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("[train] `out`: the pipeline sets this itself"),
        "{}",
        text(&o.stderr)
    );
}
