//! Bad input is a typed error naming the file, the line and what was expected; never a
//! panic.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lopper_data::{
    Columns, DataError, GenericReader, GlueTask, Metric, RowError, Split, Task, read_imdb,
    read_imdb_file, read_swag_file,
};
use tempfile::TempDir;

fn file(dir: &TempDir, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn rte(path: &Path, split: Split) -> DataError {
    GlueTask::Rte.read_file(path, split).err().unwrap()
}

#[test]
fn a_row_with_a_missing_field_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "dev.tsv",
        b"index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta b\tentailment\n",
    );
    let e = rte(&p, Split::Dev);
    assert!(
        matches!(
            e,
            DataError::Malformed {
                line: 3,
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("dev.tsv:3:") && msg.contains("expected 4 fields"),
        "{msg}"
    );
    // An extra field is malformed too (flexible rows are errors).
    let p = file(
        &dir,
        "extra.tsv",
        b"index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\tx\n",
    );
    assert!(matches!(
        rte(&p, Split::Dev),
        DataError::Malformed {
            line: 2,
            found: 5,
            ..
        }
    ));
    // CoLA's headerless files must have four fields.
    let p = file(&dir, "cola.tsv", b"gj04\t1\tThe cat sat.\n");
    let e = GlueTask::Cola.read_file(&p, Split::Train).err().unwrap();
    assert!(
        matches!(
            e,
            DataError::Malformed {
                line: 1,
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn an_unknown_label_names_the_expected_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "dev.tsv",
        b"index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\tneutral\n",
    );
    let e = rte(&p, Split::Dev);
    assert!(matches!(&e, DataError::UnknownLabel { line: 3, label, .. } if label == "neutral"));
    assert!(
        e.to_string()
            .contains("expected one of entailment, not_entailment"),
        "{e}"
    );
    // A CoLA file with a header row: `label` is not a label.
    let p = file(
        &dir,
        "cola.tsv",
        b"source\tlabel\tmark\tsentence\ngj04\t1\t\tThe cat sat.\n",
    );
    let e = GlueTask::Cola.read_file(&p, Split::Dev).err().unwrap();
    assert!(
        matches!(e, DataError::UnknownLabel { line: 1, .. }),
        "{e:?}"
    );
    // Regression wants a number.
    let p = file(
        &dir,
        "stsb.tsv",
        b"index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\t0\tn\tn\ta\tb\thigh\n",
    );
    let e = GlueTask::Stsb.read_file(&p, Split::Train).err().unwrap();
    assert!(e.to_string().contains("expected a finite number"), "{e}");
    // SWAG wants a choice index.
    let p = file(
        &dir,
        "val.csv",
        b",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\n0,v,1,s,a,b,gold,e0,e1,e2,e3,4\n",
    );
    let e = read_swag_file(&p, Split::Dev).err().unwrap();
    assert!(
        matches!(e, DataError::UnknownLabel { line: 2, .. }),
        "{e:?}"
    );
    // IMDB wants positive or negative.
    let p = file(
        &dir,
        "train.csv",
        b"review,sentiment\nGood.,positive\nMeh.,neutral\n",
    );
    let e = read_imdb_file(&p, Split::Train).err().unwrap();
    assert!(
        matches!(e, DataError::UnknownLabel { line: 3, .. }),
        "{e:?}"
    );
}

#[test]
fn a_missing_column_names_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(&dir, "dev.tsv", b"index\tsentence1\tsentence2\n0\ta\tb\n");
    let e = rte(&p, Split::Dev);
    assert!(matches!(&e, DataError::MissingColumn { line: 1, column, .. } if column == "label"));
    assert!(
        e.to_string().contains("found: index, sentence1, sentence2"),
        "{e}"
    );
    // Test files need no label column, but their text columns.
    assert!(GlueTask::Rte.read_file(&p, Split::Test).is_ok());
    let p = file(&dir, "test.tsv", b"index\tsentence1\n0\ta\n");
    assert!(matches!(
        rte(&p, Split::Test),
        DataError::MissingColumn { .. }
    ));
    let p = file(&dir, "imdb.csv", b"text,label\nGood.,positive\n");
    let e = read_imdb_file(&p, Split::Train).err().unwrap();
    assert!(matches!(&e, DataError::MissingColumn { column, .. } if column == "review"));
    // A JSON line without the key.
    let p = file(
        &dir,
        "d.jsonl",
        b"{\"t\": \"a\", \"y\": \"0\"}\n{\"t\": \"b\"}\n",
    );
    let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
    let e = GenericReader::new(task, Columns::new("t", "y"))
        .read(&p, Split::Train)
        .err()
        .unwrap();
    assert!(
        matches!(&e, DataError::MissingColumn { line: 2, column, .. } if column == "y"),
        "{e:?}"
    );
}

#[test]
fn an_empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = file(&dir, "empty.tsv", b"");
    assert!(matches!(rte(&empty, Split::Dev), DataError::Empty { .. }));
    let header_only = file(&dir, "header.tsv", b"index\tsentence1\tsentence2\tlabel\n");
    let e = rte(&header_only, Split::Dev);
    assert!(matches!(e, DataError::Empty { .. }));
    assert!(e.to_string().contains("header.tsv: empty file"), "{e}");
    let cola = GlueTask::Cola
        .read_file(&empty, Split::Train)
        .err()
        .unwrap();
    assert!(matches!(cola, DataError::Empty { .. }));
    let jsonl = file(&dir, "blank.jsonl", b"\n  \n");
    let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
    let e = GenericReader::new(task, Columns::new("t", "y"))
        .read(&jsonl, Split::Train)
        .err()
        .unwrap();
    assert!(matches!(e, DataError::Empty { .. }));
}

#[test]
fn unreadable_rows_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = file(
        &dir,
        "dev.tsv",
        b"index\tsentence1\tsentence2\tlabel\n0\ta\t\xff\xfe\tentailment\n",
    );
    let e = rte(&p, Split::Dev);
    // The CSV reader's own error is kept as the cause.
    assert!(
        matches!(
            e,
            DataError::Parse {
                line: 2,
                source: RowError::Csv(_),
                ..
            }
        ),
        "{e:?}"
    );
    let p = file(
        &dir,
        "d.jsonl",
        b"{\"t\": \"a\", \"y\": \"0\"}\n{\"t\": \"b\", \"y\": }\n",
    );
    let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
    let reader = GenericReader::new(task, Columns::new("t", "y"));
    assert!(matches!(
        reader.read(&p, Split::Train),
        Err(DataError::Parse {
            line: 2,
            source: RowError::Json(_),
            ..
        })
    ));
    let p = file(&dir, "list.jsonl", b"[1, 2]\n");
    assert!(matches!(
        reader.read(&p, Split::Train),
        Err(DataError::Parse { line: 1, .. })
    ));
    let missing = dir.path().join("nope.tsv");
    assert!(matches!(rte(&missing, Split::Dev), DataError::Io { .. }));
    assert!(matches!(
        GlueTask::Rte.read(dir.path(), Split::Train),
        Err(DataError::Io { .. })
    ));
}

#[test]
fn options_and_layouts_that_do_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_imdb(dir.path(), Split::Test),
        Err(DataError::NoSuchSplit { .. })
    ));
    let p = file(&dir, "d.txt", b"a,b\n");
    let task = Task::classification("mine", &["0", "1"], Metric::Accuracy);
    assert!(matches!(
        GenericReader::new(task, Columns::new("a", "b")).read(&p, Split::Train),
        Err(DataError::Invalid(_))
    ));
    let p = file(&dir, "d.csv", b"a,b\nx,1\n");
    assert!(matches!(
        GenericReader::new(Task::multiple_choice("mc", 4), Columns::new("a", "b"))
            .read(&p, Split::Train),
        Err(DataError::Invalid(_))
    ));
    assert!(matches!(
        "glue".parse::<GlueTask>(),
        Err(DataError::Invalid(_))
    ));
}
