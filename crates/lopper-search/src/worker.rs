//! A worker of a distributed search: claims trials of a study from the trial store,
//! evaluates them and records the results, until the coordinator says the study is done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lopper_core::Decision;

use crate::db::StoreUrl;
use crate::evaluator::Line;
use crate::runner::{process_name, record_of};
use crate::study::{Claim, Completion, StudySettings, TrialStore, Verdict};
use crate::{EvalContext, Evaluator, Result, SearchError};

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Results recorded.
    pub recorded: usize,
    /// Results refused because the lease had been lost meanwhile.
    pub refused: usize,
    /// Evaluations that failed (given back to the queue or, on the last attempt, failed).
    pub failed: usize,
}

/// What a worker reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// A trial was claimed.
    Claimed(Claim),
    /// Its result was recorded or refused.
    Completed(Claim, Completion),
    /// Its evaluation failed.
    Failed(Claim, String),
}

/// The callback a worker reports its events to.
type EventFn<'a> = Box<dyn FnMut(&WorkerEvent) + 'a>;

/// Pulls trials of one study. The evaluator is built by the caller from the study's task
/// ([`TrialStore::wait_for_study`]), once.
pub struct Worker<'a> {
    url: StoreUrl,
    study: String,
    evaluator: &'a dyn Evaluator,
    poll: Duration,
    name: String,
    on_event: Option<EventFn<'a>>,
}

impl<'a> Worker<'a> {
    /// A worker of `study` in the store at `url`.
    pub fn new(url: StoreUrl, study: &str, evaluator: &'a dyn Evaluator) -> Self {
        Self {
            url,
            study: study.to_string(),
            evaluator,
            poll: Duration::from_millis(20),
            name: process_name("worker"),
            on_event: None,
        }
    }

    /// How often an idle worker looks for a trial (20 ms by default).
    pub fn poll(mut self, every: Duration) -> Self {
        self.poll = every;
        self
    }

    /// Calls `f` on every claim and completion.
    pub fn on_event(mut self, f: impl FnMut(&WorkerEvent) + 'a) -> Self {
        self.on_event = Some(Box::new(f));
        self
    }

    /// Its name in the store.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Works until the study is done.
    pub fn run(mut self) -> Result<WorkerSummary> {
        let mut store = TrialStore::open(&self.url)?;
        let Some((settings, _)) = store.study_task::<serde::de::IgnoredAny>(&self.study)? else {
            return Err(SearchError::Study(format!(
                "{}: no study `{}`",
                self.url, self.study
            )));
        };
        let objectives = self.evaluator.objectives();
        store.worker_seen(&self.study, &self.name, "idle")?;

        // The lease keeper renews the claim in hand from a connection of its own, so that a
        // long evaluation keeps its lease; a paused process pauses it too, and loses it.
        let held: Arc<Mutex<Option<Claim>>> = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let keeper = {
            let mut keeper_store = TrialStore::open(&self.url)?;
            let held = Arc::clone(&held);
            let stop = Arc::clone(&stop);
            let study = self.study.clone();
            let name = self.name.clone();
            let lease = settings.lease_seconds;
            thread::spawn(move || {
                keep_leases(&mut keeper_store, &study, &name, lease, &held, &stop)
            })
        };

        // A multi-fidelity study: reports go to the coordinator's scheduler, on a connection
        // of their own.
        let mut line = match store.max_fidelity(&self.study)? {
            Some(max_fidelity) => Some(RemoteLine {
                store: TrialStore::open(&self.url)?,
                study: self.study.clone(),
                worker: self.name.clone(),
                claim: None,
                ended: false,
                max_fidelity,
                poll: self.poll,
            }),
            None => None,
        };
        let outcome = self.pull(&mut store, &settings, &objectives, &held, line.as_mut());
        stop.store(true, Ordering::SeqCst);
        let kept = keeper
            .join()
            .map_err(|_| SearchError::Study("the lease keeper panicked".into()))?;
        let summary = outcome?;
        kept?;
        store.worker_seen(&self.study, &self.name, "done")?;
        Ok(summary)
    }

    fn pull(
        &mut self,
        store: &mut TrialStore,
        settings: &StudySettings,
        objectives: &[lopper_core::Objective],
        held: &Mutex<Option<Claim>>,
        mut line: Option<&mut RemoteLine>,
    ) -> Result<WorkerSummary> {
        let mut summary = WorkerSummary::default();
        loop {
            let Some(claim) = store.claim(&self.study, &self.name, settings)? else {
                if store.is_finished(&self.study)? {
                    return Ok(summary);
                }
                thread::sleep(self.poll);
                continue;
            };
            store.worker_seen(&self.study, &self.name, "working")?;
            self.event(WorkerEvent::Claimed(claim.clone()));
            set(held, Some(claim.clone()));
            let t0 = Instant::now();
            let mut ctx = EvalContext::standalone(claim.trial.id, objectives);
            if let Some(line) = line.as_deref_mut() {
                line.claim = Some(claim.clone());
                line.ended = false;
                ctx.line = Line::Remote(line);
            }
            let outcome = self.evaluator.evaluate(&claim.trial, &mut ctx);
            let fidelity = ctx.fidelity();
            if line.as_deref().is_some_and(|l| l.ended) {
                // The study is over: a trial stopped for that is not a result.
                set(held, None);
                continue;
            }
            let seconds = t0.elapsed().as_secs_f64();
            let record = outcome.and_then(|m| {
                record_of(claim.trial.clone(), m, fidelity, seconds, 0.0, objectives)
            });
            let result = match record {
                Ok(record) => {
                    let done = store.complete(&self.study, &self.name, &claim, &record)?;
                    match done {
                        Completion::Recorded => summary.recorded += 1,
                        Completion::Refused => summary.refused += 1,
                    }
                    WorkerEvent::Completed(claim.clone(), done)
                }
                Err(e) => {
                    let message = e.to_string();
                    store.fail(&self.study, &self.name, &claim, &message, settings)?;
                    summary.failed += 1;
                    WorkerEvent::Failed(claim.clone(), message)
                }
            };
            set(held, None);
            store.worker_seen(&self.study, &self.name, "idle")?;
            self.event(result);
        }
    }

    fn event(&mut self, e: WorkerEvent) {
        if let Some(f) = self.on_event.as_mut() {
            f(&e);
        }
    }
}

/// A worker's line to the coordinator's scheduler: each report is written to the store and
/// the worker waits for the answer.
pub(crate) struct RemoteLine {
    store: TrialStore,
    study: String,
    worker: String,
    /// The trial being evaluated.
    claim: Option<Claim>,
    /// The study ended while the trial waited for an answer.
    ended: bool,
    max_fidelity: u32,
    poll: Duration,
}

impl RemoteLine {
    pub(crate) fn max_fidelity(&self) -> u32 {
        self.max_fidelity
    }

    /// Sends `values` (minimised) reached at `fidelity` and waits for the scheduler's answer;
    /// a worker that lost its trial (or whose study ended) is told to stop, and its result
    /// will be refused.
    pub(crate) fn report(&mut self, fidelity: u32, values: &[f64]) -> Result<Decision> {
        let Some(claim) = self.claim.clone() else {
            return Err(SearchError::Study(
                "a report outside of an evaluation".into(),
            ));
        };
        let mut verdict = self
            .store
            .report(&self.study, &self.worker, &claim, fidelity, values)?;
        loop {
            match verdict {
                Verdict::Decided(d) => return Ok(d),
                Verdict::Lost => return Ok(Decision::Stop),
                Verdict::Ended => {
                    self.ended = true;
                    return Ok(Decision::Stop);
                }
                Verdict::Waiting => thread::sleep(self.poll),
            }
            verdict = self
                .store
                .verdict(&self.study, &self.worker, &claim, fidelity)?;
        }
    }
}

fn set(held: &Mutex<Option<Claim>>, claim: Option<Claim>) {
    match held.lock() {
        Ok(mut g) => *g = claim,
        Err(poisoned) => *poisoned.into_inner() = claim,
    }
}

/// Renews the lease of the claim in hand every quarter of the lease, until told to stop.
fn keep_leases(
    store: &mut TrialStore,
    study: &str,
    worker: &str,
    lease: f64,
    held: &Mutex<Option<Claim>>,
    stop: &AtomicBool,
) -> Result<()> {
    let every = Duration::from_secs_f64(lease / 4.0);
    let tick = every.min(Duration::from_millis(50));
    let mut last = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        thread::sleep(tick);
        if last.elapsed() < every {
            continue;
        }
        last = Instant::now();
        let claim = match held.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some(claim) = claim {
            // A lost lease is not an error here: the result will be refused, and counted.
            store.renew(study, worker, &claim, lease)?;
            store.worker_seen(study, worker, "working")?;
        }
    }
    Ok(())
}
