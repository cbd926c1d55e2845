//! The search loop.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lopper_core::{
    Direction, Evaluated, Objective, Optimizer, OptimizerSpec, Point, Scheduler, SchedulerSpec,
    Space, Trial, build_optimizer, build_scheduler, load_optimizer, load_scheduler, save_optimizer,
    save_scheduler,
};
use lopper_pareto::Archive;
use serde::{Deserialize, Serialize};

use crate::db::StoreUrl;
use crate::evaluator::Line;
use crate::store::{Checkpoint, Opened, RunManifest, RunStore};
use crate::study::{StoredResult, StudyManifest, StudySettings, TrialStore};
use crate::{
    EvalContext, Evaluator, Measurement, Observer, Progress, Result, SearchError, TrialRecord,
};

/// How a search is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Optimizer plugin name (`random`, `local-search`, `nsga2`, `morea`, …).
    pub optimizer: String,
    /// The plugin's settings (`null`: its defaults).
    #[serde(default)]
    pub optimizer_config: serde_json::Value,
    /// Multi-fidelity scheduler plugin name (`mo-asha`), if any.
    #[serde(default)]
    pub scheduler: Option<String>,
    /// The scheduler's settings.
    #[serde(default)]
    pub scheduler_config: serde_json::Value,
    /// Seed of the optimizer and the scheduler.
    #[serde(default)]
    pub seed: u64,
    /// Stop asking after this many trials.
    #[serde(default)]
    pub max_evaluations: Option<usize>,
    /// Stop asking after this many seconds (summed over resumed sessions).
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// Evaluations run in parallel.
    #[serde(default = "one")]
    pub workers: usize,
    /// Evaluate the space's upper bound, lower bound and mid-point first (the paper's initial
    /// design).
    #[serde(default)]
    pub initial_design: bool,
    /// Reference point for the hypervolume, in minimisation orientation (a maximised
    /// objective's entry is negated); without one no hypervolume is tracked.
    #[serde(default)]
    pub reference_point: Option<Vec<f64>>,
}

fn one() -> usize {
    1
}

impl SearchConfig {
    /// A search with `optimizer`'s defaults, one worker and no budget yet.
    pub fn new(optimizer: impl Into<String>) -> Self {
        Self {
            optimizer: optimizer.into(),
            optimizer_config: serde_json::Value::Null,
            scheduler: None,
            scheduler_config: serde_json::Value::Null,
            seed: 0,
            max_evaluations: None,
            max_seconds: None,
            workers: 1,
            initial_design: false,
            reference_point: None,
        }
    }
}

/// Why a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The evaluation budget was used up.
    Evaluations,
    /// The wall-clock budget was used up.
    WallClock,
}

/// What a search leaves behind.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Every told trial, in tell order (trial-id order).
    pub records: Vec<TrialRecord>,
    /// Indices into `records` of the non-dominated trials, ascending.
    pub front: Vec<usize>,
    /// Hypervolume after each told trial, when the search has a reference point.
    pub hypervolume_trace: Option<Vec<f64>>,
    /// Trials that came from the run folder rather than from this session.
    pub resumed: usize,
    /// Why it ended.
    pub stop: StopReason,
}

/// A search: a space, an evaluator, settings, and optionally a run folder and observers.
///
/// ```
/// use lopper_core::{Dim, Objective, Space, Trial};
/// use lopper_search::{EvalContext, Evaluator, Measurement, Search, SearchConfig};
/// use lopper_opt_random as _; // links the `random` plugin
///
/// struct Line(Vec<Dim>);
/// impl Space for Line {
///     fn dims(&self) -> &[Dim] {
///         &self.0
///     }
/// }
///
/// struct Both;
/// impl Evaluator for Both {
///     fn objectives(&self) -> Vec<Objective> {
///         vec![Objective::minimize("x", ""), Objective::minimize("10 - x", "")]
///     }
///     fn evaluate(&self, t: &Trial, _: &mut EvalContext<'_>) -> lopper_search::Result<Measurement> {
///         let x = t.point.coords()[0] as f64;
///         Ok(Measurement::new(vec![x, 10.0 - x]))
///     }
/// }
///
/// let mut config = SearchConfig::new("random");
/// config.max_evaluations = Some(20);
/// config.reference_point = Some(vec![11.0, 11.0]);
/// let space = Line(vec![Dim::integer("x", 0, 10)]);
/// let result = Search::new(&space, &Both, config).run()?;
/// assert_eq!(result.records.len(), 20);
/// // Every point of this problem is Pareto-optimal.
/// assert_eq!(result.front.len(), 20);
/// # Ok::<(), lopper_search::SearchError>(())
/// ```
pub struct Search<'a> {
    space: &'a dyn Space,
    evaluator: &'a dyn Evaluator,
    config: SearchConfig,
    run_dir: Option<PathBuf>,
    observers: Vec<Box<dyn Observer + 'a>>,
    optimizer: Option<Box<dyn Optimizer>>,
    study: Option<StudyTarget>,
}

/// Where a distributed search keeps its study.
struct StudyTarget {
    url: StoreUrl,
    name: String,
    settings: StudySettings,
    task: String,
    poll: Duration,
}

/// What a worker sends back.
struct Done {
    trial: Trial,
    outcome: Result<Measurement>,
    seconds: f64,
    fidelity: Option<u32>,
}

impl<'a> Search<'a> {
    /// A search of `space` scored by `evaluator`.
    pub fn new(space: &'a dyn Space, evaluator: &'a dyn Evaluator, config: SearchConfig) -> Self {
        Self {
            space,
            evaluator,
            config,
            run_dir: None,
            observers: Vec::new(),
            optimizer: None,
            study: None,
        }
    }

    /// Coordinates the search through the study `name` of the trial store at `url` instead
    /// of evaluating in threads: this process holds the optimizer, keeps
    /// `settings.parallel` trials queued or running, and tells the optimizer each result in
    /// trial-id order; `lopper worker` processes (or [`Worker`](crate::Worker)s) claim and
    /// evaluate them. `task` is what a worker needs to load (the caller's type). Started
    /// again after a crash, it resumes the study from the store.
    ///
    /// The same seed and the same `parallel` give the same trace as the threaded runner with
    /// `workers = parallel`, whatever the number of workers and the order they finish in.
    pub fn study<T: Serialize>(
        mut self,
        url: StoreUrl,
        name: &str,
        settings: StudySettings,
        task: &T,
    ) -> Result<Self> {
        let task = serde_json::to_string(task)
            .map_err(|e| SearchError::Settings(format!("the study's task: {e}")))?;
        self.study = Some(StudyTarget {
            url,
            name: name.to_string(),
            settings,
            task,
            poll: Duration::from_millis(20),
        });
        Ok(self)
    }

    /// Persists the search in `dir` and resumes from it when it holds an earlier run.
    pub fn run_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.run_dir = Some(dir.into());
        self
    }

    /// Adds an observer.
    pub fn observer(mut self, observer: impl Observer + 'a) -> Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// Uses this optimizer instead of building `config.optimizer` from the registry (for
    /// optimizers that are not registered plugins). A resumed run still restores the state
    /// saved in its checkpoint.
    pub fn with_optimizer(mut self, optimizer: Box<dyn Optimizer>) -> Self {
        self.optimizer = Some(optimizer);
        self
    }

    fn validate(&self, objectives: &[Objective]) -> Result<()> {
        let c = &self.config;
        if objectives.is_empty() {
            return Err(SearchError::Settings(
                "the evaluator measures no objective".into(),
            ));
        }
        if c.workers == 0 {
            return Err(SearchError::Settings("workers must be at least 1".into()));
        }
        if c.max_evaluations.is_none() && c.max_seconds.is_none() {
            return Err(SearchError::Settings(
                "give a budget: max_evaluations, max_seconds or both".into(),
            ));
        }
        if let Some(r) = &c.reference_point
            && r.len() != objectives.len()
        {
            return Err(SearchError::Settings(format!(
                "the reference point has {} coordinates for {} objectives",
                r.len(),
                objectives.len()
            )));
        }
        if self.space.dims().is_empty() {
            return Err(SearchError::Settings("the space has no dimension".into()));
        }
        for d in self.space.dims() {
            d.domain
                .validate()
                .map_err(|e| SearchError::Settings(format!("dimension `{}`: {e}", d.name)))?;
        }
        Ok(())
    }

    /// Runs the search to its budget.
    pub fn run(mut self) -> Result<SearchResult> {
        let objectives = self.evaluator.objectives();
        self.validate(&objectives)?;
        let manifest = RunManifest {
            optimizer: self.config.optimizer.clone(),
            optimizer_config: self.config.optimizer_config.clone(),
            scheduler: self.config.scheduler.clone(),
            seed: self.config.seed,
            objectives: objectives.clone(),
            dims: self.space.dims().len(),
            initial_design: self.config.initial_design,
        };

        if let Some(target) = self.study.take() {
            if self.run_dir.is_some() {
                return Err(SearchError::Settings(
                    "a search keeps its memory in a run folder or in a trial store, not both"
                        .into(),
                ));
            }
            return self.run_study(target, manifest, &objectives);
        }

        // Open the run folder and decide between a fresh start and a resume.
        let mut store = None;
        let mut restored: Option<(Checkpoint, Vec<TrialRecord>)> = None;
        if let Some(dir) = &self.run_dir {
            let Opened {
                store: mut s,
                manifest: old_manifest,
                checkpoint,
                records,
            } = RunStore::open(dir)?;
            match (old_manifest, checkpoint) {
                (Some(old), Some(cp)) => {
                    if old != manifest {
                        return Err(SearchError::Resume {
                            path: dir.clone(),
                            message: format!(
                                "it was started with other settings ({}); use a new folder",
                                describe_difference(&old, &manifest)
                            ),
                        });
                    }
                    restored = Some((cp, records));
                }
                // Nothing was evaluated or checkpointed (a fresh folder, or a start that failed
                // before its first ask): start afresh with the current settings.
                (_, None) if records.is_empty() => s.write_manifest(&manifest)?,
                _ => {
                    return Err(SearchError::Resume {
                        path: dir.clone(),
                        message: "it holds a partial run (finished trials without the \
                                  settings or the checkpoint they belong to)"
                            .into(),
                    });
                }
            }
            store = Some(s);
        }

        let state = match restored {
            Some((cp, records)) => State::resume(cp, records, &objectives, &self.config)?,
            None => self.fresh_state(objectives.len())?,
        };
        state.run_threads(
            self.space,
            self.evaluator,
            &objectives,
            &self.config,
            store.as_mut(),
            &mut self.observers,
        )
    }

    /// The state of a search that has not started.
    fn fresh_state(&mut self, n_obj: usize) -> Result<State> {
        let optimizer = match self.optimizer.take() {
            Some(o) => o,
            None => build_optimizer(
                &self.config.optimizer,
                &OptimizerSpec::new(n_obj, self.config.seed)
                    .with_config(self.config.optimizer_config.clone()),
            )?,
        };
        let scheduler = match &self.config.scheduler {
            Some(name) => Some(build_scheduler(
                name,
                &SchedulerSpec::new(n_obj, self.config.seed)
                    .with_config(self.config.scheduler_config.clone()),
            )?),
            None => None,
        };
        let initial = if self.config.initial_design {
            self.initial_design()
        } else {
            vec![]
        };
        State::fresh(optimizer, scheduler, initial, &self.config)
    }

    /// The coordinator of a distributed search.
    fn run_study(
        mut self,
        target: StudyTarget,
        manifest: RunManifest,
        objectives: &[Objective],
    ) -> Result<SearchResult> {
        target.settings.validate()?;
        // The trace is fixed by the trials in flight, which the study sets.
        self.config.workers = target.settings.parallel;
        // Workers run a multi-fidelity trial up to the scheduler's highest fidelity.
        let max_fidelity = match &self.config.scheduler {
            Some(name) => Some(
                build_scheduler(
                    name,
                    &SchedulerSpec::new(objectives.len(), self.config.seed)
                        .with_config(self.config.scheduler_config.clone()),
                )?
                .max_fidelity(),
            ),
            None => None,
        };
        let mut store = TrialStore::open(&target.url)?;
        let study_manifest = StudyManifest {
            run: manifest,
            settings: target.settings.clone(),
            task: target.task.clone(),
            max_fidelity,
        };
        let checkpoint = store.ensure_study(&target.name, &study_manifest)?;
        let me = process_name("coordinator");
        let lease = target.settings.lease_seconds;
        // A coordinator killed a moment ago holds the study until its lease runs out.
        store.acquire(
            &target.name,
            &me,
            lease,
            Duration::from_secs_f64(lease * 1.5 + 1.0),
            target.poll,
        )?;
        let mut state = match checkpoint {
            Some(cp) => {
                let mut records = Vec::new();
                for r in store.results(&target.name)? {
                    records.push(match r {
                        StoredResult::Record(r) => r,
                        StoredResult::Failed { id, message } => {
                            failed_record(&cp, id, message, objectives)?
                        }
                    });
                }
                State::resume(cp, records, objectives, &self.config)?
            }
            None => self.fresh_state(objectives.len())?,
        };
        let handed = state.finished.keys().copied().collect();
        let mut backend = StudyBackend {
            store,
            target,
            me,
            handed,
            pending: VecDeque::new(),
            last_renewal: Instant::now(),
            outstanding: state.outstanding.clone(),
            objectives: objectives.to_vec(),
            scheduler: state.scheduler.clone(),
            checkpoint: None,
        };
        let start = Instant::now();
        let before = state.elapsed_before;
        let elapsed = move || before + start.elapsed().as_secs_f64();
        for o in self.observers.iter_mut() {
            o.on_start(&state.progress(&self.config));
        }
        let outcome = state.drive(
            self.space,
            objectives,
            &self.config,
            &mut backend,
            &mut self.observers,
            &elapsed,
        );
        let released = backend.store.release(&backend.target.name, &backend.me);
        let stop = outcome?;
        released?;
        Ok(state.finish(stop, objectives, &self.config, &mut self.observers))
    }

    /// Upper bound, lower bound and mid-point, without repeats.
    fn initial_design(&self) -> Vec<Point> {
        let mut points: Vec<Point> = Vec::new();
        for p in [
            self.space.upper_bound(),
            self.space.lower_bound(),
            self.space.mid_point(),
        ] {
            if !points.contains(&p) {
                points.push(p);
            }
        }
        points
    }
}

fn describe_difference(old: &RunManifest, new: &RunManifest) -> String {
    let mut diffs = Vec::new();
    if old.optimizer != new.optimizer || old.optimizer_config != new.optimizer_config {
        diffs.push(format!(
            "optimizer {} {}",
            old.optimizer, old.optimizer_config
        ));
    }
    if old.scheduler != new.scheduler {
        diffs.push(format!("scheduler {:?}", old.scheduler));
    }
    if old.seed != new.seed {
        diffs.push(format!("seed {}", old.seed));
    }
    if old.objectives != new.objectives {
        let names: Vec<_> = old.objectives.iter().map(|o| o.name.as_str()).collect();
        diffs.push(format!("objectives {}", names.join(",")));
    }
    if old.dims != new.dims {
        diffs.push(format!("a space of {} dimensions", old.dims));
    }
    if old.initial_design != new.initial_design {
        diffs.push(format!("initial design {}", old.initial_design));
    }
    diffs.join("; ")
}

/// The loop's bookkeeping.
struct State {
    optimizer: Box<dyn Optimizer>,
    scheduler: Option<Arc<Mutex<Box<dyn Scheduler>>>>,
    /// Asked and not yet told, by id.
    outstanding: BTreeMap<u64, Trial>,
    /// Finished (and logged) but waiting for a lower id to finish before being told.
    finished: BTreeMap<u64, TrialRecord>,
    /// To be sent to a worker.
    queue: VecDeque<Trial>,
    /// Initial-design points not yet handed to the optimizer.
    initial: Vec<Point>,
    told: Vec<TrialRecord>,
    archive: Option<Archive<u64>>,
    elapsed_before: f64,
    resumed: usize,
}

impl State {
    fn fresh(
        optimizer: Box<dyn Optimizer>,
        scheduler: Option<Box<dyn Scheduler>>,
        initial: Vec<Point>,
        config: &SearchConfig,
    ) -> Result<Self> {
        Ok(Self {
            optimizer,
            scheduler: scheduler.map(|s| Arc::new(Mutex::new(s))),
            outstanding: BTreeMap::new(),
            finished: BTreeMap::new(),
            queue: VecDeque::new(),
            initial,
            told: Vec::new(),
            archive: new_archive(config)?,
            elapsed_before: 0.0,
            resumed: 0,
        })
    }

    fn resume(
        cp: Checkpoint,
        records: Vec<TrialRecord>,
        objectives: &[Objective],
        config: &SearchConfig,
    ) -> Result<Self> {
        let optimizer = load_optimizer(cp.optimizer)?;
        let scheduler = cp.scheduler.map(load_scheduler).transpose()?;
        let mut state = Self::fresh(optimizer, scheduler, Vec::new(), config)?;
        state.elapsed_before = cp.elapsed_seconds;
        state.outstanding = cp.outstanding.iter().map(|t| (t.id, t.clone())).collect();
        let mut logged: HashMap<u64, TrialRecord> = HashMap::new();
        for r in records {
            if state.outstanding.contains_key(&r.id) {
                logged.insert(r.id, r);
            } else {
                state.record_told(r, objectives)?;
            }
        }
        state.resumed = state.told.len();
        // Outstanding trials: finished ones are told from the log, the rest evaluated again.
        for trial in cp.outstanding {
            match logged.remove(&trial.id) {
                Some(r) if r.point == trial.point => {
                    state.resumed += 1;
                    state.finished.insert(r.id, r);
                }
                Some(r) => {
                    return Err(SearchError::Corrupt {
                        path: PathBuf::from(crate::store::RUN_DB),
                        line: 0,
                        message: format!("trial {} was logged with another point", r.id),
                    });
                }
                None => state.queue.push_back(trial),
            }
        }
        Ok(state)
    }

    fn record_told(&mut self, record: TrialRecord, objectives: &[Objective]) -> Result<()> {
        if let Some(archive) = &mut self.archive {
            archive.insert(minimised(&record.values, objectives), record.id)?;
        }
        self.told.push(record);
        Ok(())
    }

    fn progress(&self, config: &SearchConfig) -> Progress<'_> {
        Progress {
            evaluations: self.told.len(),
            budget: config.max_evaluations,
            front_size: self.archive.as_ref().map_or(0, |a| a.len()),
            hypervolume: self.archive.as_ref().map(|a| a.hypervolume()),
            last: self.told.last(),
        }
    }

    /// The whole state, to be saved.
    fn checkpoint(&self, elapsed: f64) -> Result<Checkpoint> {
        let scheduler = match &self.scheduler {
            Some(s) => {
                let guard = s
                    .lock()
                    .map_err(|_| SearchError::Settings("the scheduler lock was poisoned".into()))?;
                Some(save_scheduler(guard.as_ref())?)
            }
            None => None,
        };
        Ok(Checkpoint {
            optimizer: save_optimizer(self.optimizer.as_ref())?,
            scheduler,
            outstanding: self.outstanding.values().cloned().collect(),
            elapsed_seconds: elapsed,
        })
    }

    /// Runs the search with `config.workers` threads evaluating.
    fn run_threads(
        mut self,
        space: &dyn Space,
        evaluator: &dyn Evaluator,
        objectives: &[Objective],
        config: &SearchConfig,
        store: Option<&mut RunStore>,
        observers: &mut [Box<dyn Observer + '_>],
    ) -> Result<SearchResult> {
        let start = Instant::now();
        let before = self.elapsed_before;
        let elapsed = move || before + start.elapsed().as_secs_f64();
        for o in observers.iter_mut() {
            o.on_start(&self.progress(config));
        }
        let (job_tx, job_rx) = mpsc::channel::<Trial>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let scheduler = self.scheduler.clone();

        let outcome = thread::scope(|scope| -> Result<StopReason> {
            for _ in 0..config.workers {
                let job_rx = Arc::clone(&job_rx);
                let done_tx = done_tx.clone();
                let scheduler = scheduler.as_ref();
                scope.spawn(move || {
                    loop {
                        let next = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(trial) = next else { return };
                        let t0 = Instant::now();
                        let mut ctx = EvalContext {
                            trial: trial.id,
                            line: scheduler.map_or(Line::None, Line::Local),
                            objectives,
                            fidelity: None,
                        };
                        let outcome = evaluator.evaluate(&trial, &mut ctx);
                        let done = Done {
                            trial,
                            outcome,
                            seconds: t0.elapsed().as_secs_f64(),
                            fidelity: ctx.fidelity,
                        };
                        if done_tx.send(done).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut backend = ThreadBackend {
                jobs: job_tx,
                done: done_rx,
                store,
                objectives,
            };
            // Dropping the backend closes the job channel: the threads end.
            self.drive(space, objectives, config, &mut backend, observers, &elapsed)
        });
        let stop = outcome?;
        Ok(self.finish(stop, objectives, config, observers))
    }

    /// What the search leaves behind.
    fn finish(
        self,
        stop: StopReason,
        objectives: &[Objective],
        config: &SearchConfig,
        observers: &mut [Box<dyn Observer + '_>],
    ) -> SearchResult {
        for o in observers.iter_mut() {
            o.on_finish(&self.progress(config));
        }
        let front = non_dominated_indices(&self.told, objectives);
        SearchResult {
            front,
            hypervolume_trace: self.archive.as_ref().map(|a| a.trace().to_vec()),
            resumed: self.resumed,
            records: self.told,
            stop,
        }
    }

    /// The loop, whatever evaluates: tell what finished (in id order), ask while fewer than
    /// `config.workers` trials are out and the budget allows, hand the new trials out and
    /// persist the state, wait for the next result.
    ///
    /// A trial counts as out from its ask to its tell, and the optimizer is asked again after
    /// every single tell, so trial `k` is asked exactly when the trials before `k − workers`
    /// have been told and no later one has, whatever order the evaluations finish in (two
    /// results that arrive together are told one at a time, each followed by its asks): the
    /// trace depends on the seed and on `workers` only.
    fn drive(
        &mut self,
        space: &dyn Space,
        objectives: &[Objective],
        config: &SearchConfig,
        backend: &mut dyn Backend,
        observers: &mut [Box<dyn Observer + '_>],
        elapsed: &dyn Fn() -> f64,
    ) -> Result<StopReason> {
        let mut failure: Option<SearchError> = None;
        let mut failed: BTreeSet<u64> = BTreeSet::new();
        let mut stop = StopReason::Evaluations;
        loop {
            let mut told = Vec::new();
            let mut asked: Vec<Trial> = self.queue.drain(..).collect();
            if failure.is_none() {
                asked.extend(self.fill(space, config, &mut stop, elapsed)?);
            }
            while let Some(record) = self.tell_next(objectives, config, observers)? {
                told.push(record);
                if failure.is_none() {
                    asked.extend(self.fill(space, config, &mut stop, elapsed)?);
                }
            }
            let done = self.outstanding.is_empty();
            let checkpoint = self.checkpoint(elapsed())?;
            backend.commit(&checkpoint, &told, &asked, done && failure.is_none())?;
            if done {
                break;
            }
            let running = self.outstanding.len() - self.finished.len() - failed.len();
            if failure.is_some() && running == 0 {
                break;
            }
            match backend.next(elapsed)? {
                Next::Finished(record) => {
                    self.finished.insert(record.id, record);
                }
                Next::Failed(id, e) => {
                    failed.insert(id);
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(stop),
        }
    }

    /// Asks the optimizer while fewer than `config.workers` trials are out and the budget
    /// allows; the trials asked.
    fn fill(
        &mut self,
        space: &dyn Space,
        config: &SearchConfig,
        stop: &mut StopReason,
        elapsed: &dyn Fn() -> f64,
    ) -> Result<Vec<Trial>> {
        let mut out = Vec::new();
        while self.outstanding.len() < config.workers {
            let asked = self.told.len() + self.outstanding.len();
            if config.max_evaluations.is_some_and(|m| asked >= m) {
                break;
            }
            if config.max_seconds.is_some_and(|m| elapsed() >= m) {
                *stop = StopReason::WallClock;
                break;
            }
            let room = config.max_evaluations.map_or(usize::MAX, |m| m - asked);
            let trials = if self.initial.is_empty() {
                self.optimizer.ask(space, 1)?
            } else {
                let mut points = std::mem::take(&mut self.initial);
                points.truncate(room);
                self.optimizer.suggest(points)?
            };
            if trials.is_empty() {
                break;
            }
            for t in &trials {
                space.validate(&t.point)?;
                if self.outstanding.insert(t.id, t.clone()).is_some()
                    || self.told.iter().any(|r| r.id == t.id)
                {
                    return Err(SearchError::Settings(format!(
                        "optimizer `{}` issued trial id {} twice",
                        config.optimizer, t.id
                    )));
                }
            }
            out.extend(trials);
        }
        Ok(out)
    }

    /// Tells the lowest outstanding trial if it has finished; its record.
    fn tell_next(
        &mut self,
        objectives: &[Objective],
        config: &SearchConfig,
        observers: &mut [Box<dyn Observer + '_>],
    ) -> Result<Option<TrialRecord>> {
        let Some((&id, _)) = self.outstanding.first_key_value() else {
            return Ok(None);
        };
        let Some(record) = self.finished.remove(&id) else {
            return Ok(None);
        };
        let Some(trial) = self.outstanding.remove(&id) else {
            return Ok(None);
        };
        let values = minimised(&record.values, objectives);
        self.optimizer.tell(&[Evaluated::new(trial, values)])?;
        self.record_told(record.clone(), objectives)?;
        let progress = self.progress(config);
        for o in observers.iter_mut() {
            o.on_trial(&progress);
        }
        Ok(Some(record))
    }
}

/// What comes back from an evaluation.
enum Next {
    /// A result, ready to be told.
    Finished(TrialRecord),
    /// The evaluation of this trial failed; the search stops once the others are in.
    Failed(u64, SearchError),
}

/// What evaluates trials and keeps the search's memory.
trait Backend {
    /// Persists the state after a step that told `told` and asked `asked`, and hands
    /// `asked` out to be evaluated. `finished`: nothing is left to ask or evaluate.
    fn commit(
        &mut self,
        checkpoint: &Checkpoint,
        told: &[TrialRecord],
        asked: &[Trial],
        finished: bool,
    ) -> Result<()>;

    /// Waits for the next result.
    fn next(&mut self, elapsed: &dyn Fn() -> f64) -> Result<Next>;
}

/// Threads of this process, with an optional run folder.
struct ThreadBackend<'s, 'o> {
    jobs: mpsc::Sender<Trial>,
    done: mpsc::Receiver<Done>,
    store: Option<&'s mut RunStore>,
    objectives: &'o [Objective],
}

impl Backend for ThreadBackend<'_, '_> {
    fn commit(
        &mut self,
        checkpoint: &Checkpoint,
        told: &[TrialRecord],
        asked: &[Trial],
        finished: bool,
    ) -> Result<()> {
        if let Some(store) = self.store.as_deref_mut()
            && (!told.is_empty() || !asked.is_empty() || finished)
        {
            store.commit(checkpoint, told, finished)?;
        }
        for t in asked {
            if self.jobs.send(t.clone()).is_err() {
                return Err(SearchError::Settings("the workers stopped".into()));
            }
        }
        Ok(())
    }

    fn next(&mut self, elapsed: &dyn Fn() -> f64) -> Result<Next> {
        let Ok(done) = self.done.recv() else {
            return Err(SearchError::Settings("the workers stopped".into()));
        };
        let id = done.trial.id;
        let record = match check_measurement(done, self.objectives, elapsed()) {
            Ok(r) => r,
            Err(e) => return Ok(Next::Failed(id, e)),
        };
        // Logged (and synced) before it is told.
        if let Some(s) = self.store.as_deref_mut() {
            s.append(&record)?;
        }
        Ok(Next::Finished(record))
    }
}

/// A finished evaluation as a record, or why it is not one.
fn check_measurement(
    done: Done,
    objectives: &[Objective],
    finished_at: f64,
) -> Result<TrialRecord> {
    let measurement = match done.outcome {
        Ok(m) => m,
        Err(e @ SearchError::Evaluation { .. }) => return Err(e),
        Err(other) => {
            return Err(SearchError::Evaluation {
                trial: done.trial.id,
                message: other.to_string(),
            });
        }
    };
    record_of(
        done.trial,
        measurement,
        done.fidelity,
        done.seconds,
        finished_at,
        objectives,
    )
}

/// The trial log's record of a measurement, after checking its values.
pub(crate) fn record_of(
    trial: Trial,
    measurement: Measurement,
    fidelity: Option<u32>,
    eval_seconds: f64,
    finished_at: f64,
    objectives: &[Objective],
) -> Result<TrialRecord> {
    if measurement.values.len() != objectives.len() {
        return Err(SearchError::Evaluation {
            trial: trial.id,
            message: format!(
                "{} values for {} objectives",
                measurement.values.len(),
                objectives.len()
            ),
        });
    }
    if measurement.values.iter().any(|v| v.is_nan()) {
        return Err(SearchError::Evaluation {
            trial: trial.id,
            message: format!("NaN among the values {:?}", measurement.values),
        });
    }
    Ok(TrialRecord {
        id: trial.id,
        point: trial.point,
        // JSON has no infinity: a diverged value is logged as ±f64::MAX.
        values: measurement
            .values
            .iter()
            .map(|v| v.clamp(f64::MIN, f64::MAX))
            .collect(),
        fidelity,
        eval_seconds,
        finished_at,
        failure: None,
        info: measurement.info,
    })
}

/// The record of a trial given up on: the worst values there are.
fn failed_record(
    cp: &Checkpoint,
    id: u64,
    message: String,
    objectives: &[Objective],
) -> Result<TrialRecord> {
    let Some(trial) = cp.outstanding.iter().find(|t| t.id == id).cloned() else {
        return Err(SearchError::Study(format!(
            "trial {id} failed but the study's checkpoint does not hold it"
        )));
    };
    Ok(worst_record(trial, message, cp.elapsed_seconds, objectives))
}

fn worst_record(
    trial: Trial,
    message: String,
    finished_at: f64,
    objectives: &[Objective],
) -> TrialRecord {
    TrialRecord {
        id: trial.id,
        point: trial.point,
        values: objectives
            .iter()
            .map(|o| match o.direction {
                Direction::Minimize => f64::MAX,
                Direction::Maximize => f64::MIN,
            })
            .collect(),
        fidelity: None,
        eval_seconds: 0.0,
        finished_at,
        failure: Some(message),
        info: serde_json::Value::Null,
    }
}

/// A trial store: workers in other processes evaluate.
struct StudyBackend {
    store: TrialStore,
    target: StudyTarget,
    me: String,
    /// Results already taken from the store (told or waiting for a lower id).
    handed: BTreeSet<u64>,
    pending: VecDeque<StoredResult>,
    last_renewal: Instant,
    outstanding: BTreeMap<u64, Trial>,
    objectives: Vec<Objective>,
    /// The search's scheduler, which answers the workers' intermediate results.
    scheduler: Option<Arc<Mutex<Box<dyn Scheduler>>>>,
    /// The last checkpoint committed (the loop's state while it waits for results).
    checkpoint: Option<Checkpoint>,
}

impl StudyBackend {
    /// Hands the reports waiting in the store to the scheduler and writes its answers, with
    /// its new state, in one transaction.
    fn decide(&mut self) -> Result<()> {
        let (Some(scheduler), Some(checkpoint)) = (&self.scheduler, &self.checkpoint) else {
            return Ok(());
        };
        let reports = self.store.pending_reports(&self.target.name)?;
        if reports.is_empty() {
            return Ok(());
        }
        let mut guard = scheduler
            .lock()
            .map_err(|_| SearchError::Settings("the scheduler lock was poisoned".into()))?;
        let mut decisions = Vec::with_capacity(reports.len());
        for r in reports {
            if !self.outstanding.contains_key(&r.trial) {
                continue;
            }
            let d = guard.report(r.trial, r.fidelity, &r.values)?;
            decisions.push((r.trial, r.fidelity, d));
        }
        let mut checkpoint = checkpoint.clone();
        checkpoint.scheduler = Some(save_scheduler(guard.as_ref())?);
        drop(guard);
        self.store
            .decide(&self.target.name, &self.me, &decisions, &checkpoint)?;
        self.checkpoint = Some(checkpoint);
        Ok(())
    }
}

impl Backend for StudyBackend {
    fn commit(
        &mut self,
        checkpoint: &Checkpoint,
        told: &[TrialRecord],
        asked: &[Trial],
        finished: bool,
    ) -> Result<()> {
        self.outstanding = checkpoint
            .outstanding
            .iter()
            .map(|t| (t.id, t.clone()))
            .collect();
        self.store.commit(
            &self.target.name,
            &self.me,
            self.target.settings.lease_seconds,
            told,
            asked,
            checkpoint,
            finished,
        )?;
        self.checkpoint = Some(checkpoint.clone());
        self.last_renewal = Instant::now();
        Ok(())
    }

    fn next(&mut self, elapsed: &dyn Fn() -> f64) -> Result<Next> {
        let lease = self.target.settings.lease_seconds;
        loop {
            if let Some(r) = self.pending.pop_front() {
                let record = match r {
                    StoredResult::Record(mut r) => {
                        r.finished_at = elapsed();
                        r
                    }
                    StoredResult::Failed { id, message } => {
                        let Some(trial) = self.outstanding.get(&id).cloned() else {
                            return Err(SearchError::Study(format!(
                                "trial {id} failed but is not one the coordinator asked for"
                            )));
                        };
                        worst_record(trial, message, elapsed(), &self.objectives)
                    }
                };
                return Ok(Next::Finished(record));
            }
            if self.last_renewal.elapsed().as_secs_f64() >= lease / 4.0 {
                self.store
                    .renew_coordinator(&self.target.name, &self.me, lease)?;
                self.last_renewal = Instant::now();
            }
            self.store
                .fail_expired(&self.target.name, self.target.settings.max_attempts)?;
            self.decide()?;
            for r in self.store.untold(&self.target.name)? {
                if self.handed.insert(r.id()) {
                    self.pending.push_back(r);
                }
            }
            if self.pending.is_empty() {
                thread::sleep(self.target.poll);
            }
        }
    }
}

/// A name for this process in a store: host, process id and start time.
pub(crate) fn process_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    // Workers started in one process within one tick of a coarse clock still differ.
    static NAMED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NAMED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{role}@{host}:{}:{nanos:09}.{n}", std::process::id())
}

fn minimised(values: &[f64], objectives: &[Objective]) -> Vec<f64> {
    values
        .iter()
        .zip(objectives)
        .map(|(v, o)| o.direction.to_min(*v))
        .collect()
}

fn new_archive(config: &SearchConfig) -> Result<Option<Archive<u64>>> {
    match &config.reference_point {
        Some(r) => Ok(Some(Archive::new(r.clone())?)),
        None => Ok(None),
    }
}

fn non_dominated_indices(records: &[TrialRecord], objectives: &[Objective]) -> Vec<usize> {
    let points: Vec<Vec<f64>> = records
        .iter()
        .map(|r| minimised(&r.values, objectives))
        .collect();
    let mut idx = lopper_pareto::non_dominated(&points);
    idx.sort_unstable();
    idx
}
