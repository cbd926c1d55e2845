//! Tasks by name: the GLUE tasks, IMDB, SWAG and the movie-review ratings, each read from its folder in the layout it is
//! distributed in.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::{
    DataError, Dataset, GlueTask, Protocol, Result, Split, Splits, Task, imdb_task,
    movie_reviews_task, read_imdb, read_movie_reviews, read_swag, swag_task,
};

/// A task the data layer can read by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSource {
    /// A GLUE task; its folder is the GLUE root holding `RTE/`, `MRPC/`, ….
    Glue(GlueTask),
    /// IMDB movie reviews; its folder holds `train.csv` and `test.csv` (the dev split).
    Imdb,
    /// SWAG (multiple choice); its folder holds `train.csv`, `val.csv` and `test.csv`.
    Swag,
    /// Movie-review sentiment from human ratings (vaderSentiment's data); its folder holds
    /// `movieReviewSnippets_GroundTruth.txt`.
    MovieReviews,
}

impl TaskSource {
    /// The task: kind, labels, metric.
    pub fn task(self) -> Task {
        match self {
            TaskSource::Glue(g) => g.task(),
            TaskSource::Imdb => imdb_task(),
            TaskSource::Swag => swag_task(),
            TaskSource::MovieReviews => movie_reviews_task(),
        }
    }

    /// Reads `split` from `dir`.
    pub fn read(self, dir: &Path, split: Split) -> Result<Dataset> {
        match self {
            TaskSource::Glue(g) => g.read(dir, split),
            TaskSource::Imdb => read_imdb(dir, split),
            TaskSource::Swag => read_swag(dir, split),
            TaskSource::MovieReviews => read_movie_reviews(dir, split),
        }
    }

    /// The official train and dev splits of `dir`, divided by `protocol`.
    pub fn splits(self, dir: &Path, protocol: &Protocol) -> Result<Splits> {
        protocol.load(|split| self.read(dir, split))
    }
}

impl fmt::Display for TaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskSource::Glue(g) => write!(f, "{g}"),
            TaskSource::Imdb => f.write_str("imdb"),
            TaskSource::Swag => f.write_str("swag"),
            TaskSource::MovieReviews => f.write_str("movie-reviews"),
        }
    }
}

// Written as its name (`rte`, `movie-reviews`), as on the command line.
impl serde::Serialize for TaskSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TaskSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for TaskSource {
    type Err = DataError;

    /// A GLUE task's name (`rte`, `sst2`, `STS-B`, …), `imdb`, `swag` or `movie-reviews`.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "imdb" => Ok(TaskSource::Imdb),
            "swag" => Ok(TaskSource::Swag),
            "movie-reviews" => Ok(TaskSource::MovieReviews),
            _ => s.parse().map(TaskSource::Glue).map_err(|_| {
                DataError::Invalid(format!(
                    "unknown task `{s}`: expected a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli), imdb, swag or movie-reviews"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(
            "RTE".parse::<TaskSource>().unwrap(),
            TaskSource::Glue(GlueTask::Rte)
        );
        assert_eq!("imdb".parse::<TaskSource>().unwrap(), TaskSource::Imdb);
        assert_eq!("SWAG".parse::<TaskSource>().unwrap(), TaskSource::Swag);
        let movies: TaskSource = "movie-reviews".parse().unwrap();
        assert_eq!(movies.to_string().parse::<TaskSource>().unwrap(), movies);
        let err = "nope".parse::<TaskSource>().unwrap_err().to_string();
        assert!(
            err.contains("unknown task `nope`") && err.contains("imdb"),
            "{err}"
        );
        assert_eq!(TaskSource::Glue(GlueTask::Rte).to_string(), "rte");
    }
}
