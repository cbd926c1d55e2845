//! Plots and reports of small run folders written by hand.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use lopper_report::{ReportError, search_plots, write_report};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A search folder: 6 trials (one failed, and a partial last line), a front of 3.
fn search_folder(dir: &Path, objectives: usize) {
    let values = [
        "[0.47,0.74]",
        "[0.42,0.85]",
        "[null,0.5]",
        "[0.41,0.87]",
        "[0.45,0.60]",
        "[0.50,0.90]",
    ];
    let mut trials = String::new();
    for (i, v) in values.iter().enumerate() {
        trials += &format!(
            "{{\"id\":{i},\"point\":[4,6,1074],\"values\":{v},\"eval_seconds\":1.5,\"finished_at\":{i}.5,\"info\":{{\"layers\":4}}}}\n"
        );
    }
    trials += "{\"id\":6,\"point\":[4,";
    write(&dir.join("trials.jsonl"), &trials);
    let objs = [
        r#"{"name":"error","direction":"minimize","unit":"fraction"}"#,
        r#"{"name":"params","direction":"minimize","unit":"fraction"}"#,
    ];
    let member = |id: u32, summary: &str, e: f64, p: f64, t: f64| {
        let values = if objectives == 2 {
            format!("[{e},{p}]")
        } else {
            format!("[{e}]")
        };
        format!(
            r#"{{"id":{id},"point":[4,6,1074],"subnet":{{"layers":[]}},"summary":"{summary}","values":{values},"test_error":{t},"info":{{}}}}"#
        )
    };
    let front = format!(
        r#"{{"objectives":[{}],"reference_point":[1.0,1.0],"front":[{},{},{}],"full":{{"values":[0.4,1.0],"test_error":0.38}}}}"#,
        objs[..objectives].join(","),
        member(3, "6 layers [8h/1074u <all>]", 0.41, 0.87, 0.48),
        member(1, "6 layers [6h/1074u]", 0.42, 0.85, 0.47),
        member(4, "3 layers [8h/481u]", 0.45, 0.60, 0.49),
    );
    write(&dir.join("front.json"), &front);
    write(
        &dir.join("front.csv"),
        "id,subnet,error,params,test_error\n3,\"6 layers\",0.41,0.87,0.48\n",
    );
    write(
        &dir.join("hypervolume.csv"),
        "evaluation,hypervolume\n1,0.13\n2,0.14\n3,0.14\n4,0.15\n5,0.2\n6,0.2\n",
    );
}

fn pipeline_folder(dir: &Path) {
    write(
        &dir.join("pipeline.toml"),
        "[train]\nstrategy = \"full\"\nepochs = 2\n",
    );
    write(
        &dir.join("train/train.json"),
        r#"{"fit":{"train":{"strategy":"full","strategy_config":{"num_random":2,"temperature":10.0},
                "lr":2e-5,"epochs":2,"batch_size":4,"nested":{"x":1}},"data_seed":0},
            "meta":{"task":"rte","model":"minilm","space":"small","max_len":128,"split":{"a":1},"backend":"flex"},
            "train_examples":3}"#,
    );
    let mut metrics = String::new();
    for step in 1..=120 {
        let loss = 1.0 / (step as f64).sqrt();
        metrics += &format!(
            "{{\"kind\":\"step\",\"epoch\":{},\"step\":{step},\"lr\":2e-5,\"loss\":{loss},\"examples_per_second\":30.0,\"members\":[]}}\n",
            step / 61
        );
        if step % 60 == 0 {
            metrics += &format!(
                "{{\"kind\":\"validation\",\"epoch\":{},\"step\":{step},\"metric\":\"accuracy\",\"scores\":[{{\"role\":\"largest\",\"score\":0.5{}, \"summary\":\"x\"}},{{\"role\":\"smallest\",\"score\":0.4{},\"summary\":\"y\"}}],\"seconds\":3.0}}\n",
                step / 60 - 1,
                step / 60,
                step / 60
            );
        }
    }
    write(&dir.join("train/metrics.jsonl"), &metrics);
    write(
        &dir.join("train/test.json"),
        r#"{"largest":{"metric":"accuracy","score":0.6,"subnet":"6 layers"},"smallest":{"metric":"accuracy","score":0.55,"subnet":"1 layer"}}"#,
    );
    search_folder(&dir.join("search"), 2);
    write(
        &dir.join("selected.json"),
        r#"{"id":4,"summary":"3 layers [8h/481u]","values":[0.45,0.60],"test_error":0.49,"rule":"knee"}"#,
    );
    write(
        &dir.join("eval.json"),
        r#"{"set":"test","metric":"accuracy","score":0.85,"params":16664264,"full_params":22713986,"params_fraction":0.73,"latency_ms":{"median":4.2,"p10":4.0,"p90":5.1},"model":"export"}"#,
    );
    write(&dir.join("export/config.json"), "{}");
    write(&dir.join("export/model.safetensors"), "0123456789");
}

/// The PNG is a PNG of 800×600 pixels (signature and IHDR).
fn check_png(path: &Path) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (800, 600));
}

#[test]
fn search_plots_writes_svg_and_png() {
    let tmp = tempfile::tempdir().unwrap();
    search_folder(tmp.path(), 2);
    let files = search_plots(tmp.path()).unwrap();
    let plots = tmp.path().join("plots");
    let expected: Vec<PathBuf> = [
        "front.svg",
        "front.png",
        "hypervolume.svg",
        "hypervolume.png",
    ]
    .iter()
    .map(|f| plots.join(f))
    .collect();
    assert_eq!(files, expected);
    check_png(&expected[1]);
    check_png(&expected[3]);
    let svg = fs::read_to_string(&expected[0]).unwrap();
    for text in [
        "params (fraction)",
        "error (fraction)",
        "Pareto front (3)",
        "all trials (5)",
        "front on the test set",
    ] {
        assert!(svg.contains(text), "front.svg lacks {text}");
    }
    let svg = fs::read_to_string(&expected[2]).unwrap();
    assert!(svg.contains("evaluations") && svg.contains("hypervolume"));
    assert!(!plots.join("front.tmp.png").exists() && !plots.join("front.svg.tmp").exists());
}

#[test]
fn one_objective_has_no_front_plot() {
    let tmp = tempfile::tempdir().unwrap();
    search_folder(tmp.path(), 1);
    let files = search_plots(tmp.path()).unwrap();
    let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap()).collect();
    assert_eq!(names, ["hypervolume.svg", "hypervolume.png"]);
    let (md, _) = write_report(tmp.path()).unwrap();
    let md = fs::read_to_string(md).unwrap();
    assert!(md.contains("![Hypervolume over the evaluations](plots/hypervolume.png)"));
    assert!(!md.contains("front.png"));
}

#[test]
fn pipeline_report_is_complete_and_self_contained() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path();
    pipeline_folder(run);
    let (md_path, html_path) = write_report(run).unwrap();
    assert_eq!(
        (md_path.clone(), html_path.clone()),
        (run.join("report.md"), run.join("report.html"))
    );
    check_png(&run.join("search/plots/front.png"));
    check_png(&run.join("train/plots/loss.png"));

    let md = fs::read_to_string(&md_path).unwrap();
    for text in [
        "```\n[train]\nstrategy = \"full\"",
        "| setting | value |",
        "| task | rte |",
        "| lr | 2.000e-5 |",
        "| epoch | step | largest | smallest |",
        "| 1 | 60 | 0.5100 | 0.4100 |",
        "| 2 | 120 | 0.5200 | 0.4200 |",
        "| strategy | full |",
        "| temperature | 10 |",
        "| data_seed | 0 |",
        "| train_examples | 3 |",
        "| largest | accuracy | 0.6000 | 6 layers |",
        "| id | sub-network | error (fraction) | params (fraction) | test error |",
        "| 3 | 6 layers [8h/1074u <all>] | 0.4100 | 0.8700 | 0.4800 |",
        "6 trials (1 failed); 3 on the Pareto front; final hypervolume 0.2000 (reference point 1, 1).",
        "The full model: error 0.4000, params 1, test error 0.3800.",
        "![The trials and the Pareto front](search/plots/front.png)",
        "![Training loss (120 steps)](train/plots/loss.png)",
        "| rule | knee |",
        "| params | 16664264 |",
        "| latency (ms) median | 4.2000 |",
        "| model.safetensors | 10 B |",
        "| field | value |",
    ] {
        assert!(md.contains(text), "report.md lacks {text:?}:\n{md}");
    }
    assert!(!md.contains("nested") && !md.contains("| split"));

    let html = fs::read_to_string(&html_path).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "front, hypervolume and loss inlined"
    );
    assert!(!html.contains("<?xml"));
    assert!(html.contains("<td>6 layers [8h/1074u &lt;all&gt;]</td>"));
    assert!(html.contains("<table>") && html.contains("<h2>Selected sub-network</h2>"));
    for external in ["src=\"http", "href=", "<script", "<img", "<link"] {
        assert!(!html.contains(external), "report.html has {external}");
    }
    assert!(!run.join("report.md.tmp").exists() && !run.join("report.html.tmp").exists());

    // A second run reuses the plots (they are newer than their data).
    let before = fs::metadata(run.join("search/plots/front.png"))
        .unwrap()
        .modified()
        .unwrap();
    write_report(run).unwrap();
    let after = fs::metadata(run.join("search/plots/front.png"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn errors_name_the_folder_or_file() {
    let tmp = tempfile::tempdir().unwrap();
    match write_report(tmp.path()) {
        Err(e @ ReportError::NotARun { .. }) => {
            assert!(e.to_string().contains(&tmp.path().display().to_string()))
        }
        other => panic!("{other:?}"),
    }
    search_folder(tmp.path(), 2);
    let trials = tmp.path().join("trials.jsonl");
    let text = fs::read_to_string(&trials)
        .unwrap()
        .replacen("{\"id\":1", "{oops", 1);
    fs::write(&trials, text).unwrap();
    match write_report(tmp.path()) {
        Err(ReportError::Parse { path, line, .. }) => assert_eq!((path, line), (trials, Some(2))),
        other => panic!("{other:?}"),
    }
    fs::write(tmp.path().join("front.json"), "{\"front\": [").unwrap();
    let e = search_plots(tmp.path()).unwrap_err();
    assert!(e.to_string().contains("front.json"), "{e}");
}
