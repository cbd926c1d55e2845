//! Every reader on the small fixtures shipped in `tests/fixtures`, in each official layout
//! and with its quirks (BOM, no header, no final newline, unbalanced quotes).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use lopper_data::{
    Columns, Dataset, Format, GenericReader, GlueTask, Label, Metric, Split, Task, TaskKind,
    read_imdb, read_swag,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn glue(task: GlueTask, split: Split) -> Dataset {
    task.read(&fixtures().join("glue"), split).unwrap()
}

fn classes(d: &Dataset) -> Vec<usize> {
    d.labels()
        .unwrap()
        .iter()
        .map(|l| match l {
            Label::Class(c) => *c,
            Label::Score(_) => panic!("a score label"),
        })
        .collect()
}

#[test]
fn cola_headerless_train_and_dev_without_final_newline() {
    let train = glue(GlueTask::Cola, Split::Train);
    assert_eq!(train.len(), 6);
    assert_eq!(train.examples[0].text, "The kettle boiled over.");
    assert_eq!(train.examples[0].line, 1);
    assert_eq!(train.examples[2].text, "She said \"hello\" twice.");
    assert_eq!(train.examples[3].text, "She \"said twice hello.");
    assert_eq!(classes(&train), [1, 0, 1, 0, 1, 0]);
    let dev = glue(GlueTask::Cola, Split::Dev);
    assert_eq!(dev.len(), 3);
    assert_eq!(dev.examples[2].text, "Tom's sister laughed.");
    assert_eq!(dev.examples[2].pair, None);
    let test = glue(GlueTask::Cola, Split::Test);
    assert_eq!(test.len(), 2);
    assert_eq!(test.examples[1].label, None);
    assert_eq!(test.examples[1].line, 3);
    assert_eq!(test.task.metric, Metric::Matthews);
}

#[test]
fn sst2_single_sentences() {
    let train = glue(GlueTask::Sst2, Split::Train);
    assert_eq!(train.len(), 7);
    assert_eq!(train.examples[2].text, "the \" twist \" is obvious ");
    assert_eq!(classes(&train), [1, 0, 0, 1, 0, 1, 0]);
    assert_eq!(glue(GlueTask::Sst2, Split::Dev).len(), 3);
    let test = glue(GlueTask::Sst2, Split::Test);
    assert_eq!(test.examples[0].text, "a muddled mess .");
    assert_eq!(test.labels(), None);
}

#[test]
fn mrpc_header_with_bom_and_unbalanced_quotes() {
    let train = glue(GlueTask::Mrpc, Split::Train);
    assert_eq!(train.len(), 5);
    assert_eq!(classes(&train), [1, 0, 1, 0, 1]);
    let e = &train.examples[1];
    assert_eq!(e.text, "He called it \"a fair deal\" on Monday.");
    assert_eq!(
        e.pair.as_deref(),
        Some("\"The deal was unfair, critics said on Tuesday.")
    );
    let dev = glue(GlueTask::Mrpc, Split::Dev);
    assert_eq!(
        dev.examples[1].pair.as_deref(),
        Some("She lost the \"final race.")
    );
    let test = glue(GlueTask::Mrpc, Split::Test);
    assert_eq!(test.len(), 2);
    assert_eq!(
        test.examples[0].pair.as_deref(),
        Some("Sales grew twofold.")
    );
    assert_eq!(test.task.metric, Metric::F1);
}

#[test]
fn stsb_float_scores_by_header_name() {
    let train = glue(GlueTask::Stsb, Split::Train);
    assert_eq!(train.task.kind, TaskKind::Regression);
    assert_eq!(train.examples[0].text, "A man is cutting bread.");
    assert_eq!(
        train.examples[0].pair.as_deref(),
        Some("A man slices bread.")
    );
    assert_eq!(train.examples[0].label, Some(Label::Score(4.75)));
    assert_eq!(train.examples[4].label, Some(Label::Score(3.8)));
    assert_eq!(
        glue(GlueTask::Stsb, Split::Dev).examples[1].label,
        Some(Label::Score(0.0))
    );
    assert_eq!(glue(GlueTask::Stsb, Split::Test).labels(), None);
}

#[test]
fn qqp_pairs() {
    let train = glue(GlueTask::Qqp, Split::Train);
    assert_eq!(classes(&train), [1, 0, 1, 0, 1]);
    assert_eq!(train.examples[2].text, "What does \"idiomatic\" mean?");
    assert_eq!(glue(GlueTask::Qqp, Split::Dev).len(), 2);
    let test = glue(GlueTask::Qqp, Split::Test);
    assert_eq!(
        test.examples[0].pair.as_deref(),
        Some("Who is the author of Hamlet?")
    );
    assert!(test.task.large);
}

#[test]
fn mnli_matched_and_mismatched() {
    let train = glue(GlueTask::Mnli, Split::Train);
    assert_eq!(train.len(), 6);
    // entailment 0, neutral 1, contradiction 2.
    assert_eq!(classes(&train), [0, 2, 1, 0, 2, 1]);
    assert_eq!(train.examples[5].text, "He said \"maybe later.");
    assert_eq!(
        train.examples[5].pair.as_deref(),
        Some("He might come later.")
    );
    let m = glue(GlueTask::Mnli, Split::Dev);
    assert_eq!(classes(&m), [0, 2, 1]);
    let mm = glue(GlueTask::MnliMismatched, Split::Dev);
    assert_eq!(classes(&mm), [0, 2]);
    assert_eq!(mm.examples[0].text, "Thank you for your gift.");
    assert_eq!(glue(GlueTask::Mnli, Split::Test).len(), 1);
    assert_eq!(glue(GlueTask::MnliMismatched, Split::Test).len(), 2);
    assert_eq!(glue(GlueTask::MnliMismatched, Split::Train), {
        let mut t = train.clone();
        t.task = GlueTask::MnliMismatched.task();
        t
    });
}

#[test]
fn qnli_rte_wnli() {
    let qnli = glue(GlueTask::Qnli, Split::Train);
    assert_eq!(classes(&qnli), [0, 1, 1, 0, 0]);
    assert_eq!(qnli.examples[0].text, "When did the bridge open?");
    assert_eq!(
        qnli.examples[2].pair.as_deref(),
        Some("Its capital, the \"old city, lies on a river.")
    );
    assert_eq!(glue(GlueTask::Qnli, Split::Dev).len(), 2);
    assert_eq!(glue(GlueTask::Qnli, Split::Test).len(), 1);
    let rte = glue(GlueTask::Rte, Split::Train);
    assert_eq!(rte.len(), 10);
    assert_eq!(classes(&rte), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    assert_eq!(classes(&glue(GlueTask::Rte, Split::Dev)), [0, 1, 0]);
    assert_eq!(glue(GlueTask::Rte, Split::Test).len(), 2);
    let wnli = glue(GlueTask::Wnli, Split::Train);
    assert_eq!(classes(&wnli), [1, 0, 1, 0]);
    assert_eq!(classes(&glue(GlueTask::Wnli, Split::Dev)), [1, 0]);
    assert_eq!(glue(GlueTask::Wnli, Split::Test).len(), 1);
}

#[test]
fn every_glue_file_of_the_fixtures_reads() {
    for task in GlueTask::ALL {
        for split in [Split::Train, Split::Dev, Split::Test] {
            let d = glue(task, split);
            assert!(!d.is_empty());
            assert_eq!(d.split, split);
            assert_eq!(
                d.source.as_deref(),
                Some(task.path(&fixtures().join("glue"), split).as_path())
            );
            assert_eq!(d.labels().is_some(), split != Split::Test, "{task} {split}");
        }
    }
}

#[test]
fn imdb_csv_with_quotes_and_line_breaks() {
    let train = read_imdb(&fixtures().join("imdb"), Split::Train).unwrap();
    assert_eq!(train.len(), 6);
    assert_eq!(classes(&train), [1, 0, 0, 1, 0, 1]);
    assert_eq!(
        train.examples[0].text,
        "A gentle, funny film.<br /><br />I laughed a lot."
    );
    assert_eq!(
        train.examples[2].text,
        "The lead says \"never again\" and, sadly,\nso do I."
    );
    assert_eq!(train.examples[3].line, 6);
    // Dev is the labelled test file (no final newline).
    let dev = read_imdb(&fixtures().join("imdb"), Split::Dev).unwrap();
    assert_eq!(classes(&dev), [1, 0, 0]);
}

#[test]
fn swag_multiple_choice() {
    let train = read_swag(&fixtures().join("swag"), Split::Train).unwrap();
    assert_eq!(train.task.kind, TaskKind::MultipleChoice { choices: 4 });
    assert_eq!(train.len(), 4);
    assert_eq!(classes(&train), [0, 1, 1, 2]);
    let e = &train.examples[1];
    assert_eq!(e.text, "Someone opens the door.");
    assert_eq!(e.choices[1], "He steps inside.");
    assert_eq!(e.choices[3], "He says \"hello\" to nobody.");
    assert_eq!(train.examples[0].choices[2], "She reads a book, slowly.");
    let val = read_swag(&fixtures().join("swag"), Split::Dev).unwrap();
    assert_eq!(classes(&val), [1, 2]);
    let test = read_swag(&fixtures().join("swag"), Split::Test).unwrap();
    assert_eq!(test.examples[0].choices[1], "It explodes, loudly.");
    assert_eq!(test.labels(), None);
}

#[test]
fn generic_csv_tsv_and_jsonl() {
    let sentiment = Task::classification("reviews", &["neg", "pos"], Metric::Accuracy);
    let reader = GenericReader::new(sentiment, Columns::new("body", "stars"));
    let csv = reader
        .read(&fixtures().join("generic/reviews.csv"), Split::Train)
        .unwrap();
    assert_eq!(csv.examples[0].text, "Works well, fast.");
    assert_eq!(classes(&csv), [1, 0, 1]);
    let jsonl = reader
        .read(&fixtures().join("generic/reviews.jsonl"), Split::Train)
        .unwrap();
    assert_eq!(classes(&jsonl), [1, 0, 1]);
    assert_eq!(jsonl.examples[2].line, 4);
    let unlabelled = GenericReader::new(
        reader.task.clone(),
        Columns::new("body", "stars").unlabelled(),
    )
    .read(&fixtures().join("generic/reviews.jsonl"), Split::Test)
    .unwrap();
    assert_eq!(unlabelled.labels(), None);

    let similarity = Task::regression("pairs", Metric::Pearson);
    let tsv = GenericReader::new(similarity, Columns::pair("left", "right", "similarity"))
        .with_format(Format::Tsv)
        .read(&fixtures().join("generic/pairs.tsv"), Split::Dev)
        .unwrap();
    assert_eq!(tsv.examples[0].text, "A \"big\" dog.");
    assert_eq!(tsv.examples[0].pair.as_deref(), Some("A large dog."));
    assert_eq!(tsv.examples[2].label, Some(Label::Score(4.0)));
}
