//! `lopper`: the command line of lopper.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

mod baseline;
mod embed;
mod eval;
mod export;
mod moo;
mod pipeline;
mod progress;
mod search;
mod select;
mod study;
mod train;

/// Structural pruning of pre-trained language models by multi-objective neural architecture
/// search. Every command prints one error line and exits with code 2 on bad input.
#[derive(Parser)]
#[command(name = "lopper", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the non-dominated rows of a CSV file (every column minimised; a header row is
    /// allowed and repeated).
    Pareto {
        /// The CSV file: one point per row, one objective per column.
        file: PathBuf,
    },
    /// Print the exact hypervolume of the points of a CSV file (every column minimised).
    Hypervolume {
        /// Reference point, one coordinate per column, e.g. `2,2`. Points that do not
        /// dominate it contribute nothing.
        #[arg(
            long = "ref",
            value_name = "X,Y,...",
            allow_hyphen_values = true,
            value_delimiter = ',',
            required = true
        )]
        reference: Vec<f64>,
        /// The CSV file: one point per row, one objective per column.
        file: PathBuf,
    },
    /// List the registered optimizer and scheduler plugins.
    Optimizers,
    /// Run an optimizer plugin on a multi-objective test problem and print the final
    /// hypervolume and its trace as CSV.
    BenchMoo(moo::MooArgs),
    /// Print sentence embeddings (one JSON array per line) of the sentences on standard input
    /// (one per line), computed by a model or one of its sub-networks.
    Embed(embed::EmbedArgs),
    /// Fine-tune a pre-trained encoder on a task as a weight-sharing super-network with one of
    /// the paper's strategies; writes checkpoints and a metrics log, and resumes when run
    /// again on the same --out folder.
    Train(Box<train::TrainArgs>),
    /// Search a trained super-network (a `lopper train` run) for the Pareto set of
    /// sub-networks; writes the trial log, the front (CSV, JSON, scored on the test set too)
    /// and the hypervolume trace, and resumes when run again on the same --out folder.
    Search(Box<search::SearchArgs>),
    /// Evaluate trials of a study in a trial store (`--store`) until its coordinator ends
    /// it; start as many as you like, on any machines that reach the store.
    Worker(study::WorkerArgs),
    /// What is in a trial store: its studies, their progress, workers, leases, failures.
    #[command(subcommand)]
    Study(study::StudyCommand),
    /// Prune with one of the paper's baselines instead of training and searching a
    /// super-network; writes a front in the format of `lopper search`.
    #[command(subcommand)]
    Baseline(baseline::BaselineCommand),
    /// Pick one sub-network of a search's front by a budget (parameters, latency, MACs, or
    /// error increase) and print it as JSON.
    Select(select::SelectArgs),
    /// Write a dense pruned model of one sub-network (safetensors with per-layer shapes,
    /// config.json, tokenizer files), loadable by every command that takes --model.
    Export(export::ExportArgs),
    /// Score a checkpoint, an exported model or a sub-network on a task's train, validation or
    /// test set, and print the metric, the parameter count and the latency.
    Eval(Box<eval::EvalArgs>),
    /// List the registered objectives (for `lopper search --objectives`).
    Objectives,
    /// Write the train / validation / test sets a protocol makes of a task as JSONL, so that
    /// other tools can use exactly the examples `lopper train` uses.
    Split(train::SplitArgs),
    /// Run the whole pipeline (fine-tune → search → select → export → test) from one TOML
    /// file; each stage is skipped when its output exists, so running it again resumes.
    Run(pipeline::RunArgs),
    /// Write report.md and a self-contained report.html with the tables and plots of a run
    /// folder (`lopper run`'s, or `lopper search`'s).
    Report {
        /// The run folder.
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version print as clap prints them; bad flags are one error line, exit 2.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("lopper: {first}");
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lopper: error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, each cause added only when the text so far does not
/// already say it (the library errors name their cause in their own message, and so do the
/// network client's).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line.replace('\n', " ")
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pareto { file } => pareto(&file),
        Command::Hypervolume { reference, file } => hypervolume(&reference, &file),
        Command::Optimizers => {
            optimizers();
            Ok(())
        }
        Command::BenchMoo(args) => moo::run(&args),
        Command::Embed(args) => embed::run(&args),
        Command::Run(args) => pipeline::run(&args),
        Command::Report { dir } => {
            let (md, html) = lopper::pipeline::write_report(&dir)?;
            println!("{}\n{}", md.display(), html.display());
            Ok(())
        }
        Command::Train(args) => train::run(&args),
        Command::Split(args) => train::split(&args),
        Command::Search(args) => search::run(&args),
        Command::Baseline(command) => baseline::run(&command),
        Command::Worker(args) => study::worker(&args),
        Command::Study(command) => study::study(&command),
        Command::Select(args) => select::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Objectives => {
            for p in lopper::prune::objective_plugins() {
                println!("{:<10} {}", p.name, p.summary);
            }
            Ok(())
        }
    }
}

fn pareto(file: &std::path::Path) -> Result<()> {
    let table = lopper::pareto::PointTable::read(file)?;
    let mut keep = lopper::pareto::non_dominated(&table.rows);
    keep.sort_unstable();
    if let Some(h) = &table.header {
        println!("{}", h.join(","));
    }
    for i in keep {
        println!("{}", table.raw[i].join(","));
    }
    Ok(())
}

fn hypervolume(reference: &[f64], file: &std::path::Path) -> Result<()> {
    let table = lopper::pareto::PointTable::read(file)?;
    if reference.len() != table.columns() {
        bail!(
            "--ref has {} coordinates but {} has {} columns",
            reference.len(),
            file.display(),
            table.columns()
        );
    }
    let hv = lopper::pareto::hypervolume(&table.rows, reference)?;
    println!("{hv}");
    Ok(())
}

fn optimizers() {
    println!("optimizers:");
    for p in lopper::core::optimizer_plugins() {
        println!("  {:<14} {}", p.name, p.summary);
    }
    println!("schedulers:");
    for p in lopper::core::scheduler_plugins() {
        println!("  {:<14} {}", p.name, p.summary);
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn an_error_line_says_each_cause_once() {
        let io = std::io::Error::other("no such folder");
        let e = anyhow::Error::new(io).context("/nope: no such folder");
        assert_eq!(one_line(&e), "/nope: no such folder");
        let e = anyhow::anyhow!("disk full").context("writing runs/x");
        assert_eq!(one_line(&e), "writing runs/x: disk full");
    }
}
