//! Study 1, the methods: WS-NAS, S-NAS, RFP, HP and LD on the same pre-trained model, task,
//! split and seed, each through the library's [`PruningMethod`] trait. A unit is one task ×
//! method × seed; its front becomes result rows.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lopper::core::Subnet;
use lopper::data::TaskSource;
use lopper::model::{EncoderConfig, encoder_params, paper_params};
use lopper::pipeline::{
    ConstraintKind, DataSpec, FrontFile, HeadPruningSpec, LayerDroppingSpec, Observers,
    PruningInput, PruningMethod, RfpSpec, SearchDir, SearchSpec, SnasSpec, TrainDir, TrainSpec,
    WsNas, task_config,
};
use lopper::train::StrategyKind;
use serde::{Deserialize, Serialize};

use crate::results::{Row, RowKind};
use crate::scale::{Scale, Settings};

/// The five ways to prune the study compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Retraining-free pruning (Kwon et al.) of the `standard` fine-tuned model.
    Rfp,
    /// Head pruning (Michel et al.) of the `standard` fine-tuned model.
    Hp,
    /// Layer dropping (Sajjad et al.): the bottom layers fine-tuned.
    Ld,
    /// Weight-sharing NAS, the paper's method: the `full` strategy, then EHVI.
    WsNas,
    /// Standard NAS: each trial fine-tuned, MO-ASHA over epochs.
    Snas,
}

impl Method {
    /// Every method, in the order a task's units run (RFP and HP share the fine-tuning).
    pub const ALL: [Method; 5] = [
        Method::Rfp,
        Method::Hp,
        Method::Ld,
        Method::WsNas,
        Method::Snas,
    ];

    /// Its name in result rows and tables.
    pub fn name(self) -> &'static str {
        match self {
            Method::Rfp => "rfp",
            Method::Hp => "hp",
            Method::Ld => "ld",
            Method::WsNas => "ws-nas",
            Method::Snas => "snas",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One unit of the study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The task.
    pub task: TaskSource,
    /// The method.
    pub method: Method,
    /// The seed.
    pub seed: u64,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} × {} × seed {}", self.task, self.method, self.seed)
    }
}

/// A unit's wall clock across runs: the seconds of earlier runs read from `path`, this run's
/// added, and the sum written back every few seconds by a thread until [`UnitClock::stop`].
struct UnitClock {
    path: PathBuf,
    before: f64,
    started: Instant,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl UnitClock {
    const EVERY: Duration = Duration::from_secs(5);

    fn start(path: PathBuf) -> Result<Self> {
        let before = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse::<f64>()
                .with_context(|| format!("{}: not a number of seconds", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0.0,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (path, stop) = (path.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut last = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    if last.elapsed() >= Self::EVERY {
                        // Best effort: a failed write costs at most one interval.
                        let _ = write_seconds(&path, before + started.elapsed().as_secs_f64());
                        last = Instant::now();
                    }
                }
            })
        };
        Ok(Self {
            path,
            before,
            started,
            stop,
            ticker: Some(ticker),
        })
    }

    /// Stops the ticker, writes the total and returns it.
    fn stop(mut self) -> Result<f64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        let total = self.before + self.started.elapsed().as_secs_f64();
        write_seconds(&self.path, total)?;
        Ok(total)
    }
}

/// Writes `seconds` to `path` through a temporary file and a rename, so that a kill never
/// leaves it half written.
fn write_seconds(path: &Path, seconds: f64) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{seconds}\n"))
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Where the study finds its model and data and keeps its runs.
#[derive(Debug, Clone)]
pub struct Study {
    /// The scale.
    pub scale: Scale,
    /// Its settings.
    pub settings: Settings,
    /// The pre-trained model (a folder in the Hugging Face layout).
    pub model: PathBuf,
    /// The GLUE root (holding `MRPC/`, `RTE/`, …), for GLUE tasks.
    pub glue: Option<PathBuf>,
    /// The movie-review ratings folder, for `movie-reviews`.
    pub movie_reviews: Option<PathBuf>,
    /// Where units keep their run folders (`<runs>/<scale>/<task>/seed-<s>/<method>`).
    pub runs: PathBuf,
}

impl Study {
    /// The units of `tasks` × `seeds` × `methods`, in running order.
    pub fn units(&self, tasks: &[TaskSource], seeds: &[u64], methods: &[Method]) -> Vec<Unit> {
        let mut units = Vec::new();
        for task in tasks {
            for &seed in seeds {
                for &method in Method::ALL.iter().filter(|m| methods.contains(m)) {
                    units.push(Unit {
                        task: task.clone(),
                        method,
                        seed,
                    });
                }
            }
        }
        units
    }

    fn data_dir(&self, task: &TaskSource) -> Result<&Path> {
        let dir = match task {
            TaskSource::Glue(_) => self.glue.as_deref(),
            TaskSource::MovieReviews => self.movie_reviews.as_deref(),
            other => bail!("the study has no data for {other}"),
        };
        dir.with_context(|| format!("no data folder for {task}"))
    }

    fn seed_dir(&self, task: &TaskSource, seed: u64) -> PathBuf {
        self.runs
            .join(self.scale.to_string())
            .join(task.to_string())
            .join(format!("seed-{seed}"))
    }

    /// The fine-tuning settings of every method of `task` and `seed` at this scale.
    pub fn train_spec(
        &self,
        task: &TaskSource,
        seed: u64,
        strategy: StrategyKind,
    ) -> Result<TrainSpec> {
        let s = &self.settings;
        let mut data = DataSpec::new(task.clone(), self.data_dir(task)?);
        data.split_seed = seed;
        let mut spec = TrainSpec::new(data, self.model.display().to_string());
        spec.strategy = strategy;
        spec.seed = seed;
        spec.train_limit = s.train_limit;
        spec.validation_limit = s.validation_limit;
        spec.test_limit = s.test_limit;
        spec.epochs = s.epochs;
        spec.batch_size = s.batch_size;
        spec.lr = s.lr;
        spec.max_len = s.max_len;
        Ok(spec)
    }

    /// The `standard` fine-tuning of `task` and `seed` (RFP and HP prune it; LD's unpruned
    /// network), run here unless finished.
    fn fine_tuned(
        &self,
        task: &TaskSource,
        seed: u64,
        observers: &dyn Observers,
    ) -> Result<TrainDir> {
        let run = TrainDir::new(self.seed_dir(task, seed).join("standard"));
        if !run.summary().is_file() {
            let spec = self.train_spec(task, seed, StrategyKind::Standard)?;
            observers.message(&format!(
                "fine-tuning {task} (standard) → {}",
                run.path().display()
            ));
            lopper::pipeline::train(&spec, &run, observers)?;
        }
        Ok(run)
    }

    /// The model's configuration with `task`'s head: what the parameter fractions count.
    fn config(&self, task: &TaskSource) -> Result<EncoderConfig> {
        let base = EncoderConfig::from_file(&self.model.join("config.json"))?;
        Ok(task_config(base, &task.task().kind))
    }

    /// The method of `unit` with this scale's settings, and what it is given.
    fn method(
        &self,
        unit: &Unit,
        observers: &dyn Observers,
    ) -> Result<(Box<dyn PruningMethod>, PruningInput)> {
        let s = &self.settings;
        let (task, method, seed) = (&unit.task, unit.method, unit.seed);
        Ok(match method {
            Method::Rfp => {
                // The study's fractions count the encoder; RFP's parameter budget counts as
                // the paper does (embeddings included): the same sub-networks, translated.
                let c = self.config(task)?;
                let full = Subnet::full(&c.arch());
                let (total, encoder) = (
                    paper_params(&c, &full) as f64,
                    encoder_params(&c, &full) as f64,
                );
                let budgets = s
                    .fractions
                    .iter()
                    .map(|t| (total - encoder + t * encoder) / total)
                    .collect();
                let spec = RfpSpec {
                    constraint: ConstraintKind::Params,
                    budgets,
                    sample: s.sample,
                    seed,
                    ..RfpSpec::default()
                };
                let input = PruningInput {
                    fine_tuned: Some(self.fine_tuned(task, seed, observers)?),
                    train: None,
                };
                (Box::new(spec), input)
            }
            Method::Hp => {
                let spec = HeadPruningSpec {
                    fraction: s.hp_fraction,
                    sample: s.sample,
                    seed,
                    ..HeadPruningSpec::default()
                };
                let input = PruningInput {
                    fine_tuned: Some(self.fine_tuned(task, seed, observers)?),
                    train: None,
                };
                (Box::new(spec), input)
            }
            Method::Ld => {
                let input = PruningInput {
                    fine_tuned: Some(self.fine_tuned(task, seed, observers)?),
                    train: Some(self.train_spec(task, seed, StrategyKind::Standard)?),
                };
                let spec = LayerDroppingSpec {
                    drops: s.ld_drops.clone(),
                };
                (Box::new(spec), input)
            }
            Method::WsNas => {
                let search = SearchSpec {
                    optimizer: "ehvi".into(),
                    budget: s.search_budget,
                    seed,
                    initial_design: true,
                    ..SearchSpec::default()
                };
                let input = PruningInput {
                    fine_tuned: None,
                    train: Some(self.train_spec(task, seed, StrategyKind::Full)?),
                };
                (
                    Box::new(WsNas {
                        search: Some(search),
                    }),
                    input,
                )
            }
            Method::Snas => {
                let spec = SnasSpec {
                    budget: s.snas_budget,
                    max_seconds: s.snas_seconds,
                    search_seed: seed,
                    ..SnasSpec::default()
                };
                let input = PruningInput {
                    fine_tuned: None,
                    train: Some(self.train_spec(task, seed, StrategyKind::Standard)?),
                };
                (Box::new(spec), input)
            }
        })
    }

    /// Runs `unit` (resuming what its folder holds) and returns its rows, stamped with
    /// `commit`. Its seconds are the wall-clock time of all its runs: the time so far is kept
    /// in the unit's folder (`unit-seconds.txt`, rewritten every few seconds), so a unit
    /// killed and resumed counts the killed run too, to within that interval.
    pub fn run(&self, unit: &Unit, commit: &str, observers: &dyn Observers) -> Result<Vec<Row>> {
        let dir = SearchDir::new(
            self.seed_dir(&unit.task, unit.seed)
                .join(unit.method.name()),
        );
        std::fs::create_dir_all(dir.path())
            .with_context(|| format!("creating {}", dir.path().display()))?;
        let clock = UnitClock::start(dir.path().join("unit-seconds.txt"))?;
        let front = self.method(unit, observers).and_then(|(method, input)| {
            method
                .prune(&input, &dir, observers)
                .with_context(|| format!("{unit}"))
        });
        let seconds = clock.stop()?;
        self.rows(unit, &front?, seconds, commit)
    }

    /// `front` as rows of `unit`.
    pub fn rows(
        &self,
        unit: &Unit,
        front: &FrontFile,
        seconds: f64,
        commit: &str,
    ) -> Result<Vec<Row>> {
        let c = self.config(&unit.task)?;
        let full_encoder = encoder_params(&c, &Subnet::full(&c.arch())) as f64;
        let (Some(error), Some(params)) = (front.column("error"), front.column("params")) else {
            bail!("{unit}: the front has no error and params columns");
        };
        let settings = self.settings.describe();
        let row =
            |kind, id, values: &[f64], encoder: f64, test_error, subnet: String| -> Result<Row> {
                let value = |i: usize| {
                    values
                        .get(i)
                        .copied()
                        .with_context(|| format!("{unit}: a front row without column {i}"))
                };
                Ok(Row {
                    scale: self.scale,
                    task: unit.task.clone(),
                    method: unit.method,
                    seed: unit.seed,
                    kind,
                    id,
                    params: value(params)?,
                    encoder_params: encoder,
                    validation_error: value(error)?,
                    test_error,
                    subnet,
                    seconds,
                    commit: commit.to_string(),
                    settings: settings.clone(),
                })
            };
        let mut rows = vec![row(
            RowKind::Full,
            None,
            &front.full.values,
            1.0,
            front.full.test_error,
            front.full.summary.clone(),
        )?];
        for m in &front.front {
            let encoder = encoder_params(&c, &m.subnet) as f64 / full_encoder;
            rows.push(row(
                RowKind::Member,
                Some(m.id),
                &m.values,
                encoder,
                m.test_error,
                m.summary.clone(),
            )?);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_clock_adds_the_seconds_of_earlier_runs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("unit-seconds.txt");
        std::fs::write(&path, "100.5\n").unwrap_or_else(|e| panic!("{e}"));
        let clock = UnitClock::start(path.clone()).unwrap_or_else(|e| panic!("{e:#}"));
        std::thread::sleep(Duration::from_millis(50));
        let total = clock.stop().unwrap_or_else(|e| panic!("{e:#}"));
        assert!((100.55..110.0).contains(&total), "{total}");
        let back: f64 = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, total);
        // A corrupt file is an error naming it, not a silent zero.
        std::fs::write(&path, "soon").unwrap_or_else(|e| panic!("{e}"));
        let err = UnitClock::start(path)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(format!("{err:#}").contains("unit-seconds.txt"), "{err:#}");
    }
}
