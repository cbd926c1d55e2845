//! `lopper train` and `lopper split`: flags into [`TrainSpec`] and [`DataSpec`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use lopper::data::{SplitRecord, TaskSource, TestSplit};
use lopper::pipeline::{DataSpec, TrainDir, TrainOutcome, TrainSpec};

use crate::progress::Bars;

/// The column mapping of your own task (`--task classification` or `regression`), which
/// completes the task that `--task` names.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OwnTaskFlags {
    /// Your own task: the text column (give it twice for the two columns of sentence pairs).
    #[arg(long = "text-column", value_name = "NAME")]
    pub text_columns: Vec<String>,
    /// Your own task: the label column (the target of a regression).
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Your own classification task: its labels in class order (default: the sorted distinct
    /// values of the training file's label column).
    #[arg(long, value_delimiter = ',', value_name = "A,B,…")]
    pub labels: Option<Vec<String>>,
    /// Your own task: which set is the test set: test (the test file, the default when there
    /// is one), validation (the validation file; validation is then split off the training
    /// file) or none.
    #[arg(long, value_name = "SET")]
    pub test_split: Option<TestSplit>,
}

impl OwnTaskFlags {
    /// `task` completed with these flags: your own task gets its columns; a named task takes
    /// none of them.
    pub fn apply(&self, task: &TaskSource) -> Result<TaskSource> {
        match task {
            TaskSource::Own(own) => {
                let mut own = own.clone();
                own.text_columns.clone_from(&self.text_columns);
                own.label_column = self.label_column.clone().unwrap_or_default();
                own.labels.clone_from(&self.labels);
                own.test_split = self.test_split;
                own.check()?;
                Ok(TaskSource::Own(own))
            }
            named => {
                let given = !self.text_columns.is_empty()
                    || self.label_column.is_some()
                    || self.labels.is_some()
                    || self.test_split.is_some();
                if given {
                    bail!(
                        "--text-column, --label-column, --labels and --test-split are for your own data (--task classification or regression); {named} has its own layout"
                    );
                }
                Ok(named.clone())
            }
        }
    }

    /// `spec` with its task completed.
    pub fn train_spec(&self, spec: &TrainSpec) -> Result<TrainSpec> {
        Ok(TrainSpec {
            task: self.apply(&spec.task)?,
            ..spec.clone()
        })
    }

    /// `data` with its task completed.
    pub fn data_spec(&self, data: &DataSpec) -> Result<DataSpec> {
        Ok(DataSpec {
            task: self.apply(&data.task)?,
            ..data.clone()
        })
    }
}

/// Flags of `lopper train`: the training specification, and where it goes.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub spec: TrainSpec,
    #[command(flatten)]
    pub own: OwnTaskFlags,
    /// The run folder: settings, metrics.jsonl, last/ and best/ checkpoints. Running the same
    /// command again resumes it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `lopper train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let dir = TrainDir::new(&args.out);
    let spec = args.own.train_spec(&args.spec)?;
    let outcome = lopper::pipeline::train(&spec, &dir, &Bars::new(!args.quiet))?;
    print(&outcome, dir.path());
    Ok(())
}

/// What a finished training run prints.
pub fn print(outcome: &TrainOutcome, dir: &Path) {
    let s = &outcome.summary;
    for v in &s.history {
        let scores: Vec<String> = v
            .scores
            .iter()
            .map(|s| format!("{} {:.4}", format!("{:?}", s.role).to_lowercase(), s.score))
            .collect();
        println!(
            "epoch {}  step {}  validation {}: {}",
            v.epoch + 1,
            v.step,
            v.metric,
            scores.join("  ")
        );
    }
    println!(
        "{} steps, {:.1} s training, {:.2} examples/s{}",
        s.steps,
        s.train_seconds,
        s.examples_per_second,
        if s.resumed { " (resumed)" } else { "" }
    );
    if let Some(b) = s.best {
        println!(
            "best: epoch {} ({:.4}) in {}",
            b.epoch,
            b.score,
            dir.join("best").display()
        );
    }
    println!("last: {}", dir.join("last").display());
    for (name, t) in s.test.iter().flatten() {
        println!(
            "test ({} examples, the official dev split) {name}: {} {:.4}",
            t.examples, t.metric, t.score
        );
    }
}

/// Flags of `lopper split`.
#[derive(clap::Args, Debug)]
pub struct SplitArgs {
    #[command(flatten)]
    pub data: DataSpec,
    #[command(flatten)]
    pub own: OwnTaskFlags,
    /// Folder for train.jsonl, validation.jsonl, test.jsonl (one example per line, as
    /// `lopper train` sees them) and split.json (what was done).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `split.json`: the task and what the protocol did.
#[derive(serde::Serialize)]
struct SplitFile<'a> {
    task: TaskSource,
    #[serde(flatten)]
    record: &'a SplitRecord,
}

/// Runs `lopper split`: writes the sets a protocol makes, for other tools (the reference
/// scripts) to train on exactly the same examples.
pub fn split(args: &SplitArgs) -> Result<()> {
    let data = &args.own.data_spec(&args.data)?;
    let splits = data.splits()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut sets = vec![("train", &splits.train), ("validation", &splits.validation)];
    if let Some(t) = &splits.test {
        sets.push(("test", t));
    }
    for (name, set) in sets {
        let path = args.out.join(format!("{name}.jsonl"));
        let mut text = String::new();
        for e in &set.examples {
            text.push_str(&serde_json::to_string(e)?);
            text.push('\n');
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{name}: {} examples → {}", set.len(), path.display());
    }
    let record = SplitFile {
        task: data.task.resolve(&data.data)?,
        record: &splits.record,
    };
    let path = args.out.join("split.json");
    std::fs::write(&path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
