//! Movie-review sentiment from the ratings of Hutto & Gilbert (ICWSM 2014), as shipped in the
//! vaderSentiment 3.3.2 source distribution (`additional_resources/hutto_ICWSM_2014.tar.gz`).
//!
//! The file `movieReviewSnippets_GroundTruth.txt` holds 10,605 snippets of movie reviews (the
//! sentences SST-2 is built from), each with the mean of about 20 human ratings on a scale
//! from −4 to +4: tab-separated `id`, `mean rating`, `text`, no header, CRLF line ends.
//!
//! The task made of it, `movie-reviews`, is binary sentiment: the label is the sign of the
//! mean rating (`positive` for > 0, `negative` for < 0); the 37 snippets rated exactly 0 are
//! dropped, leaving 10,568 (5,242 positive). The file has no official splits, so lopper
//! fixes one by the snippet's id: every snippet whose id is a multiple of 5 is held out as
//! the dev split (2,111 snippets), the others form the train split (8,457). Under the paper's
//! protocol the train split is then divided 70/30 into train and validation by a seeded
//! shuffle and the dev split is the test set, as for a GLUE task.

use std::path::{Path, PathBuf};

use crate::error::RowError;
use crate::metrics::Metric;
use crate::table::{Delimited, Table};
use crate::{DataError, Dataset, Example, Label, Result, Split, Task};

/// The file name the task reads from its folder.
pub const MOVIE_REVIEWS_FILE: &str = "movieReviewSnippets_GroundTruth.txt";

/// Snippets whose id is a multiple of this form the dev split.
const DEV_EVERY: u64 = 5;

/// The movie-review task: classes `negative` (0) and `positive` (1), accuracy.
pub fn movie_reviews_task() -> Task {
    Task::classification("movie-reviews", &["negative", "positive"], Metric::Accuracy)
}

/// The ratings file in a movie-reviews folder.
pub fn movie_reviews_path(dir: &Path) -> PathBuf {
    dir.join(MOVIE_REVIEWS_FILE)
}

/// Reads `split` (train or dev; there is no unlabelled test split) from the folder `dir`.
pub fn read_movie_reviews(dir: &Path, split: Split) -> Result<Dataset> {
    let dev = match split {
        Split::Train => false,
        Split::Dev => true,
        Split::Test => {
            return Err(DataError::NoSuchSplit {
                task: "movie-reviews".into(),
                split: "test (the held-out snippets are the dev split)".into(),
            });
        }
    };
    let path = movie_reviews_path(dir);
    let mut table = Table::open(&path, Delimited::Tsv, false, Some(3))?;
    let mut examples = Vec::new();
    while let Some(row) = table.next_row()? {
        let parse_err = |what: &str, raw: &str| DataError::Parse {
            path: path.clone(),
            line: row.line,
            source: RowError::Invalid(format!("expected {what}, found `{raw}`")),
        };
        let id: u64 = row
            .get(0)
            .trim()
            .parse()
            .map_err(|_| parse_err("a numeric snippet id", row.get(0)))?;
        let rating: f64 = row
            .get(1)
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite())
            .ok_or_else(|| parse_err("a mean rating", row.get(1)))?;
        if rating == 0.0 || id.is_multiple_of(DEV_EVERY) != dev {
            continue;
        }
        let label = Label::Class(usize::from(rating > 0.0));
        examples.push(Example {
            line: row.line,
            ..Example::single(row.get(2).trim(), Some(label))
        });
    }
    table.finish()?;
    Ok(Dataset {
        task: movie_reviews_task(),
        split,
        examples,
        source: Some(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_of_the_rating_and_split_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let text = "1\t2.26\tGood fun.\r\n2\t-0.6\tToo tepid.\r\n3\t0.0\tA film.\r\n\
                    5\t-1.5\tDull.\r\n10\t3.1\tGreat.";
        std::fs::write(movie_reviews_path(dir.path()), text).unwrap();
        let train = read_movie_reviews(dir.path(), Split::Train).unwrap();
        let texts: Vec<_> = train.examples.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["Good fun.", "Too tepid."]);
        assert_eq!(train.labels().unwrap(), [Label::Class(1), Label::Class(0)]);
        let dev = read_movie_reviews(dir.path(), Split::Dev).unwrap();
        assert_eq!(dev.labels().unwrap(), [Label::Class(0), Label::Class(1)]);
        assert_eq!(dev.examples[0].line, 4);
        assert!(read_movie_reviews(dir.path(), Split::Test).is_err());
    }

    #[test]
    fn bad_rows_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(movie_reviews_path(dir.path()), "1\t1.0\tok\n2\tgood\tbad\n").unwrap();
        let err = read_movie_reviews(dir.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2:") && err.contains("mean rating"), "{err}");
        std::fs::write(movie_reviews_path(dir.path()), "1\t1.0\n").unwrap();
        let err = read_movie_reviews(dir.path(), Split::Train)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected 3 fields"), "{err}");
        let missing = tempfile::tempdir().unwrap();
        let err = read_movie_reviews(missing.path(), Split::Dev)
            .unwrap_err()
            .to_string();
        assert!(err.contains(MOVIE_REVIEWS_FILE), "{err}");
    }
}
