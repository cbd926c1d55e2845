//! Tokenised batches: dynamic padding, truncation, pairs, multiple choice, labels and the
//! seeded epoch order, with a WordPiece tokenizer built from a tiny `vocab.txt`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use lopper_data::{
    BatchLabels, DataError, Dataset, EncodedDataset, Example, GlueTask, Label, Metric, Split, Task,
    TextTokenizer, read_swag,
};
use tempfile::TempDir;

// ids: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, the 4, cat 5, sat 6, ##s 7, . 8, dog 9, ran 10
const VOCAB: &str = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\ncat\nsat\n##s\n.\ndog\nran\n";

fn tokenizer(vocab: &str, max_len: usize) -> (TempDir, TextTokenizer) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vocab.txt"), vocab).unwrap();
    let t = TextTokenizer::from_dir(dir.path(), max_len).unwrap();
    (dir, t)
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sentiment(examples: Vec<Example>) -> Dataset {
    let task = Task::classification("toy", &["0", "1"], Metric::Accuracy);
    Dataset::new(task, Split::Train, examples)
}

#[test]
fn batches_pad_to_their_longest_row() {
    let (_dir, t) = tokenizer(VOCAB, 128);
    let data = sentiment(vec![
        Example::single("the cat", Some(Label::Class(1))),
        Example::single("The dogs ran.", Some(Label::Class(0))),
        Example::single("cat", Some(Label::Class(1))),
    ]);
    let encoded = EncodedDataset::new(&data, &t).unwrap();
    let b = encoded.batch(&[0, 1]).unwrap();
    assert_eq!(
        b.input_ids,
        [vec![2, 4, 5, 3, 0, 0, 0], vec![2, 4, 9, 7, 10, 8, 3]]
    );
    assert_eq!(b.seq_len(), 7);
    assert_eq!(b.attention_mask[0], [1, 1, 1, 1, 0, 0, 0]);
    assert_eq!(b.attention_mask[1], [1; 7]);
    assert_eq!(b.type_ids[0], [0; 7]);
    assert_eq!(b.labels, BatchLabels::Classes(vec![1, 0]));
    assert_eq!((b.len(), b.num_choices), (2, 1));
    // Another batch pads to its own longest row.
    let b = encoded.batch(&[2, 0]).unwrap();
    assert_eq!(b.input_ids, [vec![2, 5, 3, 0], vec![2, 4, 5, 3]]);
    assert!(matches!(encoded.batch(&[3]), Err(DataError::Invalid(_))));
}

#[test]
fn the_first_input_ids_pad_with_the_tokenizers_pad_token() {
    // [PAD] is id 1 here.
    let (_dir, t) = tokenizer("[UNK]\n[PAD]\n[CLS]\n[SEP]\nthe\ncat\n", 128);
    assert_eq!(t.pad_id(), 1);
    let data = sentiment(vec![
        Example::single("the cat", None),
        Example::single("cat", None),
    ]);
    let b = EncodedDataset::new(&data, &t)
        .unwrap()
        .batch(&[0, 1])
        .unwrap();
    assert_eq!(b.input_ids[1], [2, 5, 3, 1]);
    assert_eq!(b.labels, BatchLabels::None);
}

#[test]
fn pairs_get_segment_ids_and_are_truncated() {
    let (_dir, t) = tokenizer(VOCAB, 8);
    let data = sentiment(vec![
        Example::pair("the cat", "the dog", Some(Label::Class(0))),
        Example::pair(
            "the cat sat the cat sat",
            "the dog ran the dog ran",
            Some(Label::Class(1)),
        ),
    ]);
    let b = EncodedDataset::new(&data, &t)
        .unwrap()
        .batch(&[0, 1])
        .unwrap();
    assert_eq!(b.input_ids[0], [2, 4, 5, 3, 4, 9, 3, 0]);
    assert_eq!(b.type_ids[0], [0, 0, 0, 0, 1, 1, 1, 0]);
    // Truncated to 8 tokens, longest first (as Hugging Face's fast tokenizers do, 2 + 3
    // words of two equally long texts), specials kept.
    assert_eq!(b.input_ids[1], [2, 4, 5, 3, 4, 9, 10, 3]);
    assert_eq!(b.type_ids[1], [0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(b.seq_len(), 8);
}

#[test]
fn regression_labels_are_f32_scores() {
    let (_dir, t) = tokenizer(VOCAB, 128);
    let data = GlueTask::Stsb
        .read(&fixtures().join("glue"), Split::Train)
        .unwrap();
    let encoded = EncodedDataset::new(&data, &t).unwrap();
    let b = encoded.batches(2).unwrap().next().unwrap();
    assert_eq!(b.labels, BatchLabels::Scores(vec![4.75, 0.5]));
    assert_eq!(encoded.labels().unwrap()[0], Label::Score(4.75));
}

#[test]
fn multiple_choice_rows_are_contiguous_per_example() {
    let (_dir, t) = tokenizer(VOCAB, 128);
    let data = read_swag(&fixtures().join("swag"), Split::Train).unwrap();
    let encoded = EncodedDataset::new(&data, &t).unwrap();
    assert_eq!(encoded.num_choices(), 4);
    let b = encoded.batch(&[1, 3]).unwrap();
    assert_eq!(b.input_ids.len(), 8);
    assert_eq!(b.num_choices, 4);
    assert_eq!(b.labels, BatchLabels::Classes(vec![1, 2]));
    for (i, example) in [1, 3].into_iter().enumerate() {
        let e = &data.examples[example];
        for (c, ending) in e.choices.iter().enumerate() {
            let mut expected = t.encode(&e.text, Some(ending)).unwrap().ids;
            expected.resize(b.seq_len(), 0);
            assert_eq!(
                b.input_ids[i * 4 + c],
                expected,
                "example {example} choice {c}"
            );
        }
    }
    // A wrong number of choices is an error.
    let mut bad = data.clone();
    bad.examples[0].choices.pop();
    assert!(matches!(
        EncodedDataset::new(&bad, &t),
        Err(DataError::Invalid(_))
    ));
}

#[test]
fn batches_cover_the_data_in_order_or_in_a_seeded_epoch_order() {
    let (_dir, t) = tokenizer(VOCAB, 128);
    let data = sentiment(
        (0..10)
            .map(|i| Example::single("the cat", Some(Label::Class(i % 2))))
            .collect(),
    );
    let encoded = EncodedDataset::new(&data, &t).unwrap();
    let sizes: Vec<usize> = encoded.batches(4).unwrap().map(|b| b.len()).collect();
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(encoded.batches(4).unwrap().len(), 3);
    let in_order: Vec<usize> = encoded
        .batches(3)
        .unwrap()
        .flat_map(|b| b.indices)
        .collect();
    assert_eq!(in_order, (0..10).collect::<Vec<_>>());

    let order = |seed, epoch| -> Vec<usize> {
        encoded
            .shuffled_batches(3, seed, epoch)
            .unwrap()
            .flat_map(|b| b.indices)
            .collect()
    };
    assert_eq!(order(5, 0), order(5, 0));
    assert_ne!(order(5, 0), order(5, 1));
    assert_ne!(order(5, 0), order(6, 0));
    assert_ne!(order(5, 0), in_order);
    for epoch in 0..3 {
        let seen: BTreeSet<usize> = order(5, epoch).into_iter().collect();
        assert_eq!(seen.len(), 10);
    }
    assert_eq!(
        encoded.shuffled_batches(3, 5, 2).unwrap().order(),
        order(5, 2).as_slice()
    );
    assert!(matches!(encoded.batches(0), Err(DataError::Invalid(_))));
}

#[test]
fn every_fixture_task_encodes() {
    let (_dir, t) = tokenizer(VOCAB, 16);
    for task in GlueTask::ALL {
        for split in [Split::Train, Split::Dev, Split::Test] {
            let data = task.read(&fixtures().join("glue"), split).unwrap();
            let encoded = EncodedDataset::new(&data, &t).unwrap();
            for b in encoded.batches(2).unwrap() {
                assert!(b.seq_len() <= 16);
                assert!(b.input_ids.iter().all(|r| r.len() == b.seq_len()));
            }
        }
    }
}
