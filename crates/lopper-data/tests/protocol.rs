//! The paper's protocol (70/30 by a seeded shuffle, dev as test, capped validation) and
//! plain train/dev use.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use lopper_data::{
    DataError, Dataset, Example, GlueTask, Label, Metric, PaperProtocol, Protocol, Split, Task,
};

fn dataset(n: usize, large: bool, split: Split) -> Dataset {
    let task = Task::classification("synthetic", &["0", "1"], Metric::Accuracy).with_large(large);
    let examples = (0..n)
        .map(|i| Example::single(format!("example {i}"), Some(Label::Class(i % 2))))
        .collect();
    Dataset::new(task, split, examples)
}

fn texts(d: &Dataset) -> Vec<String> {
    d.examples.iter().map(|e| e.text.clone()).collect()
}

#[test]
fn paper_protocol_divides_70_30_and_uses_dev_as_test() {
    let s = Protocol::Paper(PaperProtocol::new(3))
        .apply(
            dataset(100, false, Split::Train),
            dataset(40, false, Split::Dev),
        )
        .unwrap();
    assert_eq!((s.train.len(), s.validation.len()), (70, 30));
    assert_eq!(s.test.as_ref().unwrap().len(), 40);
    assert_eq!(s.test.as_ref().unwrap().split, Split::Dev);
    let (train, valid): (BTreeSet<_>, BTreeSet<_>) = (
        texts(&s.train).into_iter().collect(),
        texts(&s.validation).into_iter().collect(),
    );
    assert!(train.is_disjoint(&valid));
    assert_eq!(train.len() + valid.len(), 100);
    assert_eq!(s.record.protocol, lopper_data::ProtocolKind::Paper);
    assert_eq!(s.record.seed, Some(3));
    assert_eq!(s.record.train_fraction, Some(0.7));
    assert_eq!((s.record.official_train, s.record.official_dev), (100, 40));
    assert_eq!(
        (s.record.validation_cap, s.record.validation_dropped),
        (None, 0)
    );
    // Not the file order: shuffled.
    assert_ne!(texts(&s.train), texts(&dataset(70, false, Split::Train)));
    // ⌊0.7 n⌋ for sizes where 0.7 n is not exact in binary.
    for (n, expected) in [(10, 7), (30, 21), (277, 193), (2490, 1743), (3, 2)] {
        let s = Protocol::Paper(PaperProtocol::new(0))
            .apply(
                dataset(n, false, Split::Train),
                dataset(1, false, Split::Dev),
            )
            .unwrap();
        assert_eq!(
            (s.train.len(), s.validation.len()),
            (expected, n - expected),
            "n = {n}"
        );
    }
}

#[test]
fn the_split_is_determined_by_the_seed() {
    let split = |seed| {
        Protocol::Paper(PaperProtocol::new(seed))
            .apply(
                dataset(200, false, Split::Train),
                dataset(10, false, Split::Dev),
            )
            .unwrap()
    };
    assert_eq!(texts(&split(42).train), texts(&split(42).train));
    assert_eq!(texts(&split(42).validation), texts(&split(42).validation));
    assert_ne!(texts(&split(42).validation), texts(&split(43).validation));
}

#[test]
fn large_tasks_cap_the_validation_set() {
    let train = dataset(10_000, true, Split::Train);
    let dev = dataset(500, true, Split::Dev);
    let s = Protocol::Paper(PaperProtocol::new(1))
        .apply(train.clone(), dev.clone())
        .unwrap();
    assert_eq!((s.train.len(), s.validation.len()), (7000, 2048));
    assert_eq!(
        (s.record.validation_cap, s.record.validation_dropped),
        (Some(2048), 952)
    );
    let p = PaperProtocol::new(1).with_validation_cap(Some(100));
    let s = Protocol::Paper(p)
        .apply(train.clone(), dev.clone())
        .unwrap();
    assert_eq!((s.train.len(), s.validation.len()), (7000, 100));
    let p = PaperProtocol::new(1).with_validation_cap(None);
    let s = Protocol::Paper(p)
        .apply(train.clone(), dev.clone())
        .unwrap();
    assert_eq!(s.validation.len(), 3000);
    // Small tasks are not capped.
    let s = Protocol::Paper(PaperProtocol::new(1))
        .apply(dataset(10_000, false, Split::Train), dev)
        .unwrap();
    assert_eq!((s.validation.len(), s.record.validation_cap), (3000, None));
    // The cap keeps a prefix of the uncapped validation order.
    let uncapped = Protocol::Paper(PaperProtocol::new(1).with_validation_cap(None))
        .apply(train.clone(), dataset(1, true, Split::Dev))
        .unwrap();
    let capped = Protocol::Paper(PaperProtocol::new(1))
        .apply(train, dataset(1, true, Split::Dev))
        .unwrap();
    assert_eq!(
        texts(&capped.validation),
        texts(&uncapped.validation)[..2048]
    );
    assert_eq!(texts(&capped.train), texts(&uncapped.train));
    assert!(GlueTask::Sst2.task().large && GlueTask::Mnli.task().large);
    assert!(!GlueTask::Cola.task().large && !GlueTask::Stsb.task().large);
}

#[test]
fn plain_use_is_train_and_dev() {
    let s = Protocol::Plain
        .apply(
            dataset(10, false, Split::Train),
            dataset(4, false, Split::Dev),
        )
        .unwrap();
    assert_eq!(texts(&s.train), texts(&dataset(10, false, Split::Train)));
    assert_eq!(s.validation.len(), 4);
    assert_eq!(s.validation.split, Split::Dev);
    assert!(s.test.is_none());
    assert_eq!(
        (s.record.protocol, s.record.seed),
        (lopper_data::ProtocolKind::Plain, None)
    );
}

#[test]
fn load_reads_the_official_splits() {
    let glue = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/glue");
    let s = Protocol::Paper(PaperProtocol::new(7))
        .load(|split| GlueTask::Rte.read(&glue, split))
        .unwrap();
    assert_eq!((s.train.len(), s.validation.len()), (7, 3));
    assert_eq!(s.test.unwrap().len(), 3);
    let e = Protocol::Plain.load(|split| GlueTask::Rte.read(&glue.join("nope"), split));
    assert!(matches!(e, Err(DataError::Io { .. })));
}

#[test]
fn bad_options_are_errors() {
    let tiny = Protocol::Paper(PaperProtocol::new(0)).apply(
        dataset(1, false, Split::Train),
        dataset(1, false, Split::Dev),
    );
    assert!(matches!(tiny, Err(DataError::Invalid(_))));
    for fraction in [0.0, 1.0, -0.5, f64::NAN] {
        let p = PaperProtocol::new(0).with_train_fraction(fraction);
        let r = Protocol::Paper(p).apply(
            dataset(10, false, Split::Train),
            dataset(1, false, Split::Dev),
        );
        assert!(matches!(r, Err(DataError::Invalid(_))), "{fraction}");
    }
}
