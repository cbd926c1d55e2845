//! The real GLUE files in `../shared/data/glue` (CI has them; a fresh clone does not, hence
//! `#[ignore]`). Set `LOPPER_GLUE_DIR` to read another copy. Run with
//! `cargo test -p lopper-data -- --ignored --nocapture` to see the counts.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use lopper_data::{
    EncodedDataset, GlueTask, Label, PaperProtocol, Protocol, Split, TaskKind, TextTokenizer,
};

fn glue_dir() -> PathBuf {
    lopper_testkit::assets::glue_dir().unwrap()
}

/// (task, split, file name, rows) of every line of MANIFEST.tsv.
fn manifest() -> Vec<(GlueTask, Split, String, usize)> {
    let text = std::fs::read_to_string(glue_dir().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (task_col, split_col, rows_col) = (col("task"), col("split"), col("rows"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let (split, task) = match (f[task_col], f[split_col]) {
                ("MNLI", "dev_mismatched") => (Split::Dev, GlueTask::MnliMismatched),
                ("MNLI", "test_mismatched") => (Split::Test, GlueTask::MnliMismatched),
                ("MNLI", "dev_matched") => (Split::Dev, GlueTask::Mnli),
                ("MNLI", "test_matched") => (Split::Test, GlueTask::Mnli),
                (t, s) => (
                    match s {
                        "train" => Split::Train,
                        "dev" => Split::Dev,
                        "test" => Split::Test,
                        other => panic!("unknown split {other}"),
                    },
                    t.parse::<GlueTask>().unwrap(),
                ),
            };
            let file = task.file_name(split).to_owned();
            (task, split, file, f[rows_col].parse().unwrap())
        })
        .collect()
}

#[test]
#[ignore = "reads ../shared/data/glue"]
fn every_present_file_reads_with_the_manifest_row_count_and_valid_labels() {
    let dir = glue_dir();
    let listed = manifest();
    assert!(!listed.is_empty());
    // Every TSV present in a task folder is listed in the manifest.
    let names: BTreeSet<(String, String)> = listed
        .iter()
        .map(|(t, _, f, _)| (t.dir_name().to_owned(), f.clone()))
        .collect();
    for task_dir in std::fs::read_dir(&dir).unwrap() {
        let task_dir = task_dir.unwrap().path();
        if !task_dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&task_dir).unwrap() {
            let file = file.unwrap().path();
            let key = (
                task_dir.file_name().unwrap().to_string_lossy().into_owned(),
                file.file_name().unwrap().to_string_lossy().into_owned(),
            );
            assert!(
                names.contains(&key),
                "{} is not in MANIFEST.tsv",
                file.display()
            );
        }
    }
    for (task, split, _, rows) in listed {
        let d = task.read(&dir, split).unwrap();
        assert_eq!(d.len(), rows, "{task} {split}");
        let labelled = d.examples.iter().filter(|e| e.label.is_some()).count();
        match split {
            Split::Test => assert_eq!(labelled, 0, "{task} {split}"),
            _ => assert_eq!(labelled, rows, "{task} {split}"),
        }
        let mut per_class = vec![0usize; d.task.num_outputs()];
        for e in &d.examples {
            assert!(!e.text.is_empty(), "{task} {split} line {}", e.line);
            match (e.label, &d.task.kind) {
                (Some(Label::Class(c)), TaskKind::Classification { labels }) => {
                    assert!(c < labels.len());
                    per_class[c] += 1;
                }
                (Some(Label::Score(s)), TaskKind::Regression) => assert!((0.0..=5.0).contains(&s)),
                (None, _) => {}
                other => panic!("{task} {split}: label {other:?}"),
            }
        }
        if split != Split::Test && per_class.len() > 1 {
            assert!(
                per_class.iter().all(|&n| n > 0),
                "{task} {split}: {per_class:?}"
            );
        }
        println!("{task:8} {split:5} {rows:6} rows, per class {per_class:?}");
    }
}

#[test]
#[ignore = "reads ../shared/data/glue"]
fn the_paper_protocol_on_real_tasks() {
    let dir = glue_dir();
    let p = Protocol::Paper(PaperProtocol::new(0));
    let sst2 = p.load(|s| GlueTask::Sst2.read(&dir, s)).unwrap();
    assert_eq!((sst2.train.len(), sst2.validation.len()), (47_144, 2048));
    assert_eq!(sst2.record.validation_dropped, 67_349 - 47_144 - 2048);
    assert_eq!(sst2.test.unwrap().len(), 872);
    let rte = p.load(|s| GlueTask::Rte.read(&dir, s)).unwrap();
    assert_eq!((rte.train.len(), rte.validation.len()), (1743, 747));
    assert_eq!(rte.test.unwrap().len(), 277);
    let stsb = p.load(|s| GlueTask::Stsb.read(&dir, s)).unwrap();
    assert_eq!(
        (
            stsb.train.len(),
            stsb.validation.len(),
            stsb.record.validation_cap
        ),
        (4024, 1725, None)
    );
}

#[test]
#[ignore = "reads ../shared/data/glue"]
fn real_dev_files_encode_and_batch() {
    let dir = glue_dir();
    let vocab = tempfile::tempdir().unwrap();
    std::fs::write(
        vocab.path().join("vocab.txt"),
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\na\n.\n",
    )
    .unwrap();
    let t = TextTokenizer::from_dir(vocab.path(), 128).unwrap();
    for (task, split, _, rows) in manifest() {
        if split != Split::Dev {
            continue;
        }
        let d = task.read(&dir, split).unwrap();
        let encoded = EncodedDataset::new(&d, &t).unwrap();
        let seen: usize = encoded
            .shuffled_batches(32, 1, 0)
            .unwrap()
            .inspect(|b| assert!(b.seq_len() <= 128))
            .map(|b| b.len())
            .sum();
        assert_eq!(seen, rows);
    }
}
