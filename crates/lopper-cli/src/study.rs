//! Searches through a trial store: the flags the coordinators share, `lopper worker` and
//! `lopper study ls|show|rm`.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use lopper::pipeline::StudyTask;
use lopper::search::{
    Completion, StoreUrl, StudySettings, TrialStore, Worker, WorkerEvent, WorkerSummary,
};

/// Where a search keeps its study, for commands that coordinate one (`bench-moo`, `search`).
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Run the search through a trial store instead of threads: `sqlite:PATH` or
    /// `postgres://USER@HOST:PORT/DB`. This process becomes the study's coordinator;
    /// `lopper worker --store URL --study NAME` processes, on any machines, evaluate.
    #[arg(long, value_name = "URL", requires = "study")]
    pub store: Option<String>,
    /// The study's name in the store (running the same command again resumes it).
    #[arg(long, value_name = "NAME", requires = "store")]
    pub study: Option<String>,
    /// Seconds a worker's claim on a trial lasts without renewal (workers renew every
    /// quarter of it); a worker silent for longer loses its trial to another.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub lease_seconds: f64,
    /// Attempts of a trial before it is marked failed (its values then the worst there are).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_attempts: u32,
}

impl StoreArgs {
    /// The store and study, if a store was given; `parallel` is the number of trials in
    /// flight.
    pub fn target(&self, parallel: usize) -> Result<Option<(StoreUrl, String, StudySettings)>> {
        let (Some(url), Some(study)) = (&self.store, &self.study) else {
            return Ok(None);
        };
        let url: StoreUrl = url.parse()?;
        let settings = StudySettings {
            parallel,
            lease_seconds: self.lease_seconds,
            max_attempts: self.max_attempts,
        };
        Ok(Some((url, study.clone(), settings)))
    }
}

/// Flags of `lopper worker`.
#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// The trial store: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, value_name = "URL")]
    store: String,
    /// The study to work on.
    #[arg(long, value_name = "NAME")]
    study: String,
    /// Wait this long for the study to appear (workers may start before their coordinator).
    #[arg(long, default_value_t = 120.0, value_name = "S")]
    wait_seconds: f64,
    /// Print nothing per trial.
    #[arg(long)]
    quiet: bool,
}

/// Runs `lopper worker`: loads what the study needs once and evaluates trials until the
/// study is done.
pub fn worker(args: &WorkerArgs) -> Result<()> {
    let url: StoreUrl = args.store.parse()?;
    let mut store = TrialStore::open(&url)?;
    if !(args.wait_seconds.is_finite() && args.wait_seconds >= 0.0) {
        bail!(
            "--wait-seconds must be a number of seconds, not {}",
            args.wait_seconds
        );
    }
    let (_, task): (StudySettings, StudyTask) = store.wait_for_study(
        &args.study,
        Duration::from_secs_f64(args.wait_seconds),
        Duration::from_millis(200),
    )?;
    drop(store);
    let quiet = args.quiet;
    let report = |e: &WorkerEvent| {
        if quiet {
            return;
        }
        let line = match e {
            WorkerEvent::Claimed(_) => return,
            WorkerEvent::Completed(c, Completion::Recorded) => {
                format!("trial {} (attempt {}): recorded", c.trial.id, c.attempt)
            }
            WorkerEvent::Completed(c, Completion::Refused) => format!(
                "trial {} (attempt {}): refused, the lease was lost meanwhile",
                c.trial.id, c.attempt
            ),
            WorkerEvent::Failed(c, why) => {
                format!(
                    "trial {} (attempt {}): failed: {why}",
                    c.trial.id, c.attempt
                )
            }
        };
        eprintln!("{line}");
    };
    let summary: WorkerSummary = match &task {
        StudyTask::BenchMoo {
            problem,
            eval_delay_ms,
            fidelity,
        } => {
            let evaluator = crate::moo::evaluator(problem, *eval_delay_ms, *fidelity)?;
            Worker::new(url.clone(), &args.study, &evaluator)
                .on_event(report)
                .run()?
        }
        StudyTask::Search(task) => {
            lopper::pipeline::search_worker(task, &url, &args.study, report)?
        }
    };
    println!(
        "worker done: {} recorded, {} refused, {} failed",
        summary.recorded, summary.refused, summary.failed
    );
    Ok(())
}

/// `lopper study …`.
#[derive(clap::Subcommand, Debug)]
pub enum StudyCommand {
    /// List the studies in a store with their progress.
    Ls {
        /// The trial store.
        #[arg(long, value_name = "URL")]
        store: String,
    },
    /// Show one study: progress, coordinator, workers, leases, failures, refused results.
    Show {
        /// The study.
        name: String,
        /// The trial store.
        #[arg(long, value_name = "URL")]
        store: String,
        /// Print the told trials instead, one JSON record a line in trial-id order (the
        /// study's trace).
        #[arg(long)]
        trials: bool,
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a study and everything about it.
    Rm {
        /// The study.
        name: String,
        /// The trial store.
        #[arg(long, value_name = "URL")]
        store: String,
    },
}

/// Runs `lopper study …`.
pub fn study(command: &StudyCommand) -> Result<()> {
    let open = |url: &str| -> Result<TrialStore> { Ok(TrialStore::open(&url.parse()?)?) };
    match command {
        StudyCommand::Ls { store } => {
            let studies = open(store)?.studies()?;
            if studies.is_empty() {
                println!("no study in {store}");
            }
            for s in studies {
                println!(
                    "{:<24} {:<14} {:>6} told of {:>6} trials  {}",
                    s.name,
                    s.optimizer,
                    s.told,
                    s.trials,
                    if s.finished { "finished" } else { "open" }
                );
            }
        }
        StudyCommand::Show {
            name,
            store,
            trials,
            json,
        } => {
            let mut store = open(store)?;
            if *trials {
                let mut out = std::io::stdout().lock();
                for r in store.told_records(name)? {
                    let line = serde_json::to_string(&r).context("a trial record")?;
                    writeln!(out, "{line}").context("standard output")?;
                }
                return Ok(());
            }
            let s = store.status(name)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&s).context("the status")?
                );
                return Ok(());
            }
            println!(
                "study {}: {} seed {}, {} in flight, leases of {} s, {} attempts; {}",
                s.name,
                s.optimizer,
                s.seed,
                s.parallel,
                s.lease_seconds,
                s.max_attempts,
                if s.finished { "finished" } else { "open" }
            );
            match &s.coordinator {
                Some((who, left)) => println!("coordinator: {who} (hold {left:.1} s left)"),
                None => println!("coordinator: none"),
            }
            let t = &s.trials;
            println!(
                "trials: {} told; {} queued, {} running, {} finished, {} failed; {} results refused",
                t.told, t.queued, t.running, t.finished, t.failed, s.refused
            );
            for w in &s.workers {
                println!(
                    "worker {}: {}, {} recorded, seen {:.1} s ago",
                    w.name, w.state, w.evaluated, w.seen_seconds_ago
                );
            }
            for l in &s.leases {
                println!(
                    "lease: trial {} attempt {} held by {} ({:.1} s left)",
                    l.trial, l.attempt, l.worker, l.expires_in
                );
            }
            for i in &s.incidents {
                println!(
                    "trial {} attempt {}{}: {}",
                    i.trial,
                    i.attempt,
                    i.worker
                        .as_ref()
                        .map_or(String::new(), |w| format!(" by {w}")),
                    i.message
                );
            }
        }
        StudyCommand::Rm { name, store } => {
            if open(store)?.remove(name)? {
                println!("removed study {name}");
            } else {
                bail!("no study `{name}` in {store}");
            }
        }
    }
    Ok(())
}
