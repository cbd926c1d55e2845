//! Tasks by name: the GLUE tasks, IMDB, SWAG and the movie-review ratings, each read from its folder in the layout it is
//! distributed in; and your own classification or regression task ([`OwnTask`]).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{
    DataError, Dataset, GlueTask, OwnKind, OwnTask, Protocol, Result, Split, Splits, Task,
    imdb_task, movie_reviews_task, read_imdb, read_movie_reviews, read_swag, swag_task,
};

/// A task the data layer can read: one it knows by name, or your own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// Your own classification or regression task: files and a column mapping.
    Own(OwnTask),
}

impl TaskSource {
    /// The task: kind, labels, metric. Your own task's labels are those given or
    /// [resolved](TaskSource::resolve).
    pub fn task(&self) -> Task {
        match self {
            TaskSource::Glue(g) => g.task(),
            TaskSource::Imdb => imdb_task(),
            TaskSource::Swag => swag_task(),
            TaskSource::MovieReviews => movie_reviews_task(),
            TaskSource::Own(own) => own.task(),
        }
    }

    /// Your own task, if it is one.
    pub fn own(&self) -> Option<&OwnTask> {
        match self {
            TaskSource::Own(own) => Some(own),
            _ => None,
        }
    }

    /// The same task with everything read from the data that a record should keep: your own
    /// task's labels, when none were given (the named tasks are returned as they are).
    pub fn resolve(&self, data: &Path) -> Result<Self> {
        match self {
            TaskSource::Own(own) => Ok(TaskSource::Own(own.resolve(data)?)),
            other => Ok(other.clone()),
        }
    }

    /// Reads `split` from `data`: a named task's folder, or your own task's file or folder.
    pub fn read(&self, data: &Path, split: Split) -> Result<Dataset> {
        match self {
            TaskSource::Glue(g) => g.read(data, split),
            TaskSource::Imdb => read_imdb(data, split),
            TaskSource::Swag => read_swag(data, split),
            TaskSource::MovieReviews => read_movie_reviews(data, split),
            TaskSource::Own(own) => own.read(data, split),
        }
    }

    /// The training, validation and test sets of `data` by `protocol`: a named task's
    /// official train and dev splits divided by it; your own task's files as
    /// [`OwnTask::splits`] takes them.
    pub fn splits(&self, data: &Path, protocol: &Protocol) -> Result<Splits> {
        match self {
            TaskSource::Own(own) => own.splits(data, protocol),
            named => protocol.load(|split| named.read(data, split)),
        }
    }
}

impl fmt::Display for TaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskSource::Glue(g) => write!(f, "{g}"),
            TaskSource::Imdb => f.write_str("imdb"),
            TaskSource::Swag => f.write_str("swag"),
            TaskSource::MovieReviews => f.write_str("movie-reviews"),
            TaskSource::Own(own) => f.write_str(own.kind.as_str()),
        }
    }
}

// A named task is written as its name (`rte`, `movie-reviews`), as on the command line; your
// own task as its table (kind, columns, labels).
impl Serialize for TaskSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TaskSource::Own(own) => own.serialize(s),
            named => s.collect_str(named),
        }
    }
}

impl<'de> Deserialize<'de> for TaskSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TaskSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a task's name, or a table with kind, text_columns and label_column")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<TaskSource, E> {
                match v.parse::<TaskSource>() {
                    Ok(TaskSource::Own(_)) => Err(E::custom(format!(
                        "`{v}` needs its columns: write the task as a table (kind, text_columns, label_column)"
                    ))),
                    Ok(named) => Ok(named),
                    Err(e) => Err(E::custom(e)),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<TaskSource, A::Error> {
                let own = OwnTask::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                own.check().map_err(serde::de::Error::custom)?;
                Ok(TaskSource::Own(own))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl FromStr for TaskSource {
    type Err = DataError;

    /// A GLUE task's name (`rte`, `sst2`, `STS-B`, …), `imdb`, `swag` or `movie-reviews`;
    /// or `classification` or `regression`: your own task, whose columns are still to be
    /// named ([`OwnTask::check`]).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "classification" => Ok(TaskSource::Own(OwnTask::new(OwnKind::Classification))),
            "regression" => Ok(TaskSource::Own(OwnTask::new(OwnKind::Regression))),
            "imdb" => Ok(TaskSource::Imdb),
            "swag" => Ok(TaskSource::Swag),
            "movie-reviews" => Ok(TaskSource::MovieReviews),
            _ => s.parse().map(TaskSource::Glue).map_err(|_| {
                DataError::Invalid(format!(
                    "unknown task `{s}`: expected a GLUE task (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli), imdb, swag, movie-reviews, or classification or regression on your own data"
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

    #[test]
    fn records_keep_names_as_strings_and_own_tasks_as_tables() {
        let rte: TaskSource = serde_json::from_str("\"rte\"").unwrap();
        assert_eq!(serde_json::to_string(&rte).unwrap(), "\"rte\"");
        let own = TaskSource::Own(OwnTask {
            text_columns: vec!["text".into()],
            label_column: "label".into(),
            ..OwnTask::new(OwnKind::Regression)
        });
        let json = serde_json::to_string(&own).unwrap();
        assert_eq!(serde_json::from_str::<TaskSource>(&json).unwrap(), own);
        assert_eq!(own.to_string(), "regression");
        // A bare kind has no columns: not a record a stage can read.
        let err = serde_json::from_str::<TaskSource>("\"regression\"").unwrap_err();
        assert!(err.to_string().contains("needs its columns"), "{err}");
        let err = serde_json::from_str::<TaskSource>(
            "{\"kind\":\"regression\",\"text_columns\":[],\"label_column\":\"y\"}",
        )
        .unwrap_err();
        assert!(err.to_string().contains("text column"), "{err}");
    }
}
