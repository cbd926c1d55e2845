//! `lopper`: the command line of lopper.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod csvio;
mod embed;
mod eval;
mod export;
mod moo;
mod pipeline;
mod progress;
mod search;
mod select;
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
        #[arg(long = "ref", value_name = "X,Y,...", allow_hyphen_values = true)]
        reference: String,
        /// The CSV file: one point per row, one objective per column.
        file: PathBuf,
    },
    /// List the registered optimizer and scheduler plugins.
    Optimizers,
    /// Run an optimizer plugin on a multi-objective test problem and print the final
    /// hypervolume and its trace as CSV.
    BenchMoo(MooArgs),
    /// Print sentence embeddings (one JSON array per line) of the sentences on standard input
    /// (one per line), computed by a model or one of its sub-networks.
    Embed {
        /// The model: a folder in the Hugging Face layout (config.json, model.safetensors,
        /// tokenizer.json or vocab.txt), or a hub id such as
        /// sentence-transformers/all-MiniLM-L6-v2 (needs a network unless cached).
        #[arg(long)]
        model: String,
        /// Run a sub-network: `small:L,H,U` (the first L layers, each with its first H heads
        /// and first U units), any space as `SPACE:c1,c2,…`, `@subnet.json`, or `full`.
        #[arg(long, value_name = "SPEC")]
        subnet: Option<String>,
        /// Pooling of the token states; default: the model's sentence-transformers setting,
        /// else cls.
        #[arg(long, value_enum)]
        pooling: Option<PoolingArg>,
        /// L2-normalise the embeddings (default: the model's sentence-transformers setting).
        #[arg(long, overrides_with = "no_normalize")]
        normalize: bool,
        /// Do not L2-normalise.
        #[arg(long)]
        no_normalize: bool,
        /// Truncate inputs to this many tokens.
        #[arg(long, default_value_t = 128)]
        max_len: usize,
        /// Sentences per forward pass.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
    },
    /// Fine-tune a pre-trained encoder on a task as a weight-sharing super-network with one of
    /// the paper's strategies; writes checkpoints and a metrics log, and resumes when run
    /// again on the same --out folder.
    Train(Box<train::TrainArgs>),
    /// Search a trained super-network (a `lopper train` run) for the Pareto set of
    /// sub-networks; writes the trial log, the front (CSV, JSON, scored on the test set too)
    /// and the hypervolume trace, and resumes when run again on the same --out folder.
    Search(Box<search::SearchArgs>),
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum PoolingArg {
    /// Mean of the token states (the attention mask honoured).
    Mean,
    /// The first token's state.
    Cls,
}

#[derive(clap::Args)]
struct MooArgs {
    /// Test problem: zdt1, zdt2, zdt3, dtlz2 (two objectives) or dtlz2-3 (three).
    #[arg(long, default_value = "zdt1")]
    problem: String,
    /// Optimizer plugin (see `lopper optimizers`).
    #[arg(long, default_value = "random")]
    optimizer: String,
    /// The optimizer's settings as JSON, e.g. `{"population": 20}`.
    #[arg(long, value_name = "JSON")]
    config: Option<String>,
    /// A multi-fidelity scheduler plugin (e.g. `mo-asha`); the problem is then evaluated
    /// epoch by epoch on a synthetic fidelity.
    #[arg(long)]
    scheduler: Option<String>,
    /// Evaluations.
    #[arg(long, default_value_t = 500)]
    budget: usize,
    /// Seed of the optimizer.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Evaluations in parallel.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Evaluate the space's upper bound, lower bound and mid-point first.
    #[arg(long)]
    initial_design: bool,
    /// Keep the search in this folder (trial log and checkpoints); running the same command
    /// again resumes it.
    #[arg(long, value_name = "DIR")]
    run_dir: Option<PathBuf>,
    /// Sleep this long in every evaluation (to watch or interrupt a search).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    eval_delay_ms: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lopper: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Pareto { file } => pareto(&file),
        Command::Hypervolume { reference, file } => hypervolume(&reference, &file),
        Command::Optimizers => {
            optimizers();
            Ok(())
        }
        Command::BenchMoo(args) => bench_moo(args),
        Command::Embed {
            model,
            subnet,
            pooling,
            normalize,
            no_normalize,
            max_len,
            batch_size,
        } => embed::run(&embed::EmbedArgs {
            model,
            subnet,
            pooling: pooling.map(|p| match p {
                PoolingArg::Mean => lopper::model::Pooling::Mean,
                PoolingArg::Cls => lopper::model::Pooling::Cls,
            }),
            normalize: match (normalize, no_normalize) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            },
            max_len,
            batch_size,
        }),
        Command::Run(args) => pipeline::run(&args),
        Command::Report { dir } => {
            let (md, html) = lopper::report::write_report(&dir)?;
            println!("{}\n{}", md.display(), html.display());
            Ok(())
        }
        Command::Train(args) => train::run(&args),
        Command::Split(args) => train::split(&args),
        Command::Search(args) => search::run(&args),
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
    let table = csvio::read_table(file)?;
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

fn hypervolume(reference: &str, file: &std::path::Path) -> Result<()> {
    let reference = csvio::parse_point(reference).context("--ref")?;
    let table = csvio::read_table(file)?;
    if reference.len() != table.columns() {
        bail!(
            "--ref has {} coordinates but {} has {} columns",
            reference.len(),
            file.display(),
            table.columns()
        );
    }
    let hv = lopper::pareto::hypervolume(&table.rows, &reference)?;
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

fn bench_moo(args: MooArgs) -> Result<()> {
    let config = match &args.config {
        Some(text) => serde_json::from_str(text).context("--config is not valid JSON")?,
        None => serde_json::Value::Null,
    };
    let settings = moo::MooRun {
        problem: args.problem,
        optimizer: args.optimizer,
        config,
        scheduler: args.scheduler,
        budget: args.budget,
        seed: args.seed,
        workers: args.workers,
        initial_design: args.initial_design,
        run_dir: args.run_dir,
        delay_ms: args.eval_delay_ms,
        progress: !args.quiet,
    };
    let (problem, result) = moo::run(&settings)?;
    moo::print_trace(&settings, problem.as_ref(), &result);
    Ok(())
}
