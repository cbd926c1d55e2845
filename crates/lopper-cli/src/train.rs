//! `lopper train` and `lopper split`: flags into [`TrainSpec`] and [`DataSpec`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lopper::data::{SplitRecord, TaskSource};
use lopper::pipeline::{DataSpec, TrainDir, TrainOutcome, TrainSpec};

use crate::progress::Bars;

/// Flags of `lopper train`: the training specification, and where it goes.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub spec: TrainSpec,
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
    let outcome = lopper::pipeline::train(&args.spec, &dir, &Bars::new(!args.quiet))?;
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
    let data = &args.data;
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
        task: data.task,
        record: &splits.record,
    };
    let path = args.out.join("split.json");
    std::fs::write(&path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
