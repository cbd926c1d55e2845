//! Your own data through the readers: Parquet written with the `parquet` crate's own writer
//! (as Hugging Face stores datasets), the sets of a folder, and readers that never panic on
//! random or truncated bytes.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lopper_data::{
    Columns, DataError, GenericReader, Label, Metric, OwnKind, OwnTask, PaperProtocol, Protocol,
    Split, Task, TaskSource, TestSplit,
};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use proptest::prelude::*;

/// Writes a Parquet file with a UTF-8 `sentence` column and an optional int64 `label`
/// column (`None`: null), one row group per slice of `groups`, Snappy-compressed.
fn write_parquet(path: &Path, groups: &[&[(&str, Option<i64>)]]) {
    let schema = Arc::new(
        parse_message_type(
            "message example { required binary sentence (UTF8); optional int64 label; }",
        )
        .unwrap(),
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    for rows in groups {
        let mut group = writer.next_row_group().unwrap();
        let mut index = 0;
        while let Some(mut column) = group.next_column().unwrap() {
            if index == 0 {
                let values: Vec<ByteArray> =
                    rows.iter().map(|(t, _)| ByteArray::from(*t)).collect();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, None, None)
                    .unwrap();
            } else {
                let values: Vec<i64> = rows.iter().filter_map(|(_, l)| *l).collect();
                let levels: Vec<i16> = rows.iter().map(|(_, l)| i16::from(l.is_some())).collect();
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, Some(&levels), None)
                    .unwrap();
            }
            column.close().unwrap();
            index += 1;
        }
        group.close().unwrap();
    }
    writer.close().unwrap();
}

fn own(kind: OwnKind) -> OwnTask {
    OwnTask {
        text_columns: vec!["sentence".into()],
        label_column: "label".into(),
        ..OwnTask::new(kind)
    }
}

#[test]
fn parquet_shards_in_the_hub_layout_read_as_one_set() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(
        &dir.path().join("train-00000-of-00002.parquet"),
        &[
            &[("a good film", Some(1)), ("dull", Some(0))],
            &[("fine", Some(1))],
        ],
    );
    write_parquet(
        &dir.path().join("train-00001-of-00002.parquet"),
        &[&[("awful", Some(0)), ("great", Some(1))]],
    );
    write_parquet(
        &dir.path().join("validation-00000-of-00001.parquet"),
        &[&[("meh", Some(0)), ("wow", Some(1))]],
    );
    write_parquet(
        &dir.path().join("test-00000-of-00001.parquet"),
        &[&[("unseen", Some(-1))]],
    );
    // GLUE's layout on the hub: the test labels are -1, so the validation file is the test set.
    let task = OwnTask {
        test_split: Some(TestSplit::Validation),
        ..own(OwnKind::Classification)
    };
    let source = TaskSource::Own(task.clone());
    let splits = source
        .splits(dir.path(), &Protocol::Paper(PaperProtocol::new(0)))
        .unwrap();
    assert_eq!(splits.train.len() + splits.validation.len(), 5);
    assert_eq!(splits.test.as_ref().map(|t| t.len()), Some(2));
    let train = source.read(dir.path(), Split::Train).unwrap();
    let texts: Vec<&str> = train.examples.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["a good film", "dull", "fine", "awful", "great"]);
    assert_eq!(train.examples[2].label, Some(Label::Class(1)));
    assert_eq!(train.examples[2].line, 3);
    assert_eq!(
        task.resolve(dir.path()).unwrap().labels,
        Some(vec!["0".to_string(), "1".to_string()])
    );
    // Taking the test file instead finds its -1: named by file, group and row.
    let err = OwnTask {
        test_split: Some(TestSplit::Test),
        ..own(OwnKind::Classification)
    }
    .splits(dir.path(), &Protocol::Paper(PaperProtocol::new(0)))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("test-00000-of-00001.parquet: row group 0, row 0: unknown label `-1`"),
        "{err}"
    );
}

#[test]
fn parquet_errors_name_the_file_and_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.parquet");
    write_parquet(&path, &[&[("a", Some(1))], &[("b", Some(0)), ("c", None)]]);
    let reader = |label: &str| {
        GenericReader::new(
            Task::classification("t", &["0", "1"], Metric::Accuracy),
            Columns::new("sentence", label),
        )
    };
    let err = reader("label").read(&path, Split::Train).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::ParquetRow {
                group: 1,
                row: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("`label`: missing (null)"), "{err}");
    let err = reader("stars")
        .read(&path, Split::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("missing column `stars` (found: sentence, label)"),
        "{err}"
    );
    // A text column that holds numbers is not text.
    let err = GenericReader::new(
        Task::regression("t", Metric::Spearman),
        Columns::new("label", "label"),
    )
    .read(&path, Split::Train)
    .unwrap_err()
    .to_string();
    assert!(err.contains("expected a string"), "{err}");
    // Truncated: the reader's own error, naming the file.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = reader("label")
        .read(&path, Split::Train)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train.parquet: not a readable Parquet file"),
        "{err}"
    );
}

#[test]
fn text_errors_name_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let reader = GenericReader::new(
        Task::regression("t", Metric::Spearman),
        Columns::pair("a", "b", "y"),
    );
    let cases: [(&str, &[u8], &str); 4] = [
        ("ragged.csv", b"a,b,y\nx,y,1\nx,y\n", "ragged.csv:3"),
        (
            "target.tsv",
            b"a\tb\ty\nx\ty\tlots\n",
            "target.tsv:2: unknown label `lots`",
        ),
        (
            "utf8.jsonl",
            b"{\"a\":\"x\",\"b\":\"y\",\"y\":1}\n{\"a\":\"\xff\"}\n",
            "utf8.jsonl:2",
        ),
        (
            "empty.csv",
            b"a,b,y\nx,,1\n",
            "empty.csv:2: unreadable row: empty text in column `b`",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = reader.read(&path, Split::Train).unwrap_err().to_string();
        assert!(err.contains(expected), "{name}: {err}");
    }
}

fn valid_files(dir: &Path) -> Vec<PathBuf> {
    let csv = dir.join("v.csv");
    std::fs::write(&csv, "sentence,label\n\"a, quoted\",1\nplain,0\n").unwrap();
    let tsv = dir.join("v.tsv");
    std::fs::write(&tsv, "sentence\tlabel\nx\t1\ny\t0\n").unwrap();
    let jsonl = dir.join("v.jsonl");
    std::fs::write(
        &jsonl,
        "{\"sentence\":\"x\",\"label\":1}\n{\"sentence\":\"y\",\"label\":0}\n",
    )
    .unwrap();
    let parquet = dir.join("v.parquet");
    write_parquet(&parquet, &[&[("x", Some(1)), ("y", Some(0))]]);
    vec![csv, tsv, jsonl, parquet]
}

fn read_any(path: &Path) {
    let reader = GenericReader::new(
        Task::classification("t", &["0", "1"], Metric::Accuracy),
        Columns::new("sentence", "label"),
    );
    // Ok or a typed error: never a panic.
    let _ = reader.read(path, Split::Train);
    let _ = reader.label_values(&[path]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random bytes under every extension: the readers answer with a result.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), ext in 0usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("r.{}", ["csv", "tsv", "jsonl", "parquet"][ext]));
        std::fs::write(&path, &bytes).unwrap();
        read_any(&path);
    }

    /// Every valid file cut at a random point, or with one byte flipped, still gives a
    /// result.
    #[test]
    fn truncated_or_flipped_files_never_panic(which in 0usize..4, cut in 0.0f64..1.0, flip in any::<u8>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = valid_files(dir.path()).swap_remove(which);
        let bytes = std::fs::read(&path).unwrap();
        let at = ((bytes.len() as f64) * cut) as usize;
        std::fs::write(&path, &bytes[..at]).unwrap();
        read_any(&path);
        let mut flipped = bytes.clone();
        if let Some(b) = flipped.get_mut(at) {
            *b ^= flip;
        }
        std::fs::write(&path, &flipped).unwrap();
        read_any(&path);
    }
}

#[test]
fn the_valid_files_read() {
    let dir = tempfile::tempdir().unwrap();
    for path in valid_files(dir.path()) {
        let d = GenericReader::new(
            Task::classification("t", &["0", "1"], Metric::Accuracy),
            Columns::new("sentence", "label"),
        )
        .read(&path, Split::Train)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            d.labels(),
            Some(vec![Label::Class(1), Label::Class(0)]),
            "{}",
            path.display()
        );
    }
}
