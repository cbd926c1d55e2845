//! The trial store: a database (SQLite by default, PostgreSQL for many machines) that holds
//! studies, their trials and the leases of the workers evaluating them.
//!
//! One study is driven by one coordinator (the process that holds the optimizer), which
//! queues trials and tells the optimizer every finished one in trial-id order; any number of
//! worker processes claim queued trials, evaluate them and record the results.
//!
//! - A claim bumps the trial's attempt counter and stamps a lease that expires on the
//!   database's clock; the worker renews it while it works.
//! - Recording a result (or renewing) is guarded by the attempt the worker claimed and by its
//!   lease being current: a worker that lost its lease (killed, paused, cut off) has its late
//!   result refused, and the refusal is counted; a trial is never recorded twice.
//! - An expired trial goes back to the queue; after `max_attempts` attempts it is marked
//!   failed, and the optimizer is told it with the worst possible values.
//! - The coordinator holds a lease on the study itself, so two coordinators cannot drive it.
//!   It checkpoints the optimizer in the same transaction that marks trials told and queues
//!   the next ones.
//! - A multi-fidelity search's intermediate results go through the store too: a worker writes
//!   each report (guarded like a result) and waits; the coordinator hands the reports to its
//!   scheduler and writes the answers in the same transaction as the scheduler's new state.

use std::time::Duration;

use lopper_core::{Decision, Point, Trial};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::db::{Conn, DbError, StoreUrl, Val};
use crate::store::{Checkpoint, RunManifest};
use crate::{Result, SearchError, TrialRecord};

/// What every process of a study agrees on, fixed when the study is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySettings {
    /// Trials kept queued or running at once. A setting of the study, not the number of
    /// workers alive, so that the trace does not depend on how many there are.
    pub parallel: usize,
    /// How long a claim (or the coordinator's hold on the study) lasts without renewal.
    pub lease_seconds: f64,
    /// Attempts before a trial is marked failed.
    pub max_attempts: u32,
}

impl Default for StudySettings {
    fn default() -> Self {
        Self {
            parallel: 1,
            lease_seconds: 30.0,
            max_attempts: 3,
        }
    }
}

impl StudySettings {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.parallel == 0 {
            return Err(SearchError::Settings("parallel must be at least 1".into()));
        }
        if self.lease_seconds.is_nan() || self.lease_seconds <= 0.0 {
            return Err(SearchError::Settings(format!(
                "the lease must be positive, not {} s",
                self.lease_seconds
            )));
        }
        if self.max_attempts == 0 {
            return Err(SearchError::Settings(
                "max_attempts must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What the study row keeps: the search's settings, the study's, and what a worker needs to
/// load (the caller's own type, as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StudyManifest {
    pub(crate) run: RunManifest,
    pub(crate) settings: StudySettings,
    pub(crate) task: String,
    /// The scheduler's highest fidelity, for a multi-fidelity search (workers run to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_fidelity: Option<u32>,
}

/// Where a worker's intermediate result stands with the coordinator's scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The scheduler's answer (given to this or to an earlier attempt of the trial).
    Decided(Decision),
    /// Not answered yet.
    Waiting,
    /// The worker no longer holds the trial: stop evaluating (the result will be refused).
    Lost,
    /// The coordinator ended the study meanwhile: stop, and send no result.
    Ended,
}

/// An intermediate result waiting for the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingReport {
    pub(crate) trial: u64,
    pub(crate) fidelity: u32,
    /// Minimised values.
    pub(crate) values: Vec<f64>,
}

/// The records as the store keeps them (JSON text).
fn record_texts(records: &[TrialRecord]) -> Result<Vec<String>> {
    records
        .iter()
        .map(|r| {
            serde_json::to_string(r)
                .map_err(|e| SearchError::Settings(format!("trial {}: {e}", r.id)))
        })
        .collect()
}

fn decision_text(d: Decision) -> &'static str {
    match d {
        Decision::Continue => "continue",
        Decision::Stop => "stop",
    }
}

fn decision_of(text: &str) -> Option<Decision> {
    match text {
        "continue" => Some(Decision::Continue),
        "stop" => Some(Decision::Stop),
        _ => None,
    }
}

/// A trial a worker claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The trial.
    pub trial: Trial,
    /// Which attempt this is (1 for the first).
    pub attempt: u32,
}

/// What became of a result a worker sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Recorded: the trial is finished.
    Recorded,
    /// Refused: the worker no longer held the trial's lease.
    Refused,
}

/// Trial counts of a study.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrialCounts {
    /// Waiting for a worker.
    pub queued: u64,
    /// Claimed by a worker.
    pub running: u64,
    /// Recorded.
    pub finished: u64,
    /// Given up on after the last attempt.
    pub failed: u64,
    /// Told to the optimizer.
    pub told: u64,
}

/// A worker as the store last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerStatus {
    /// Its name (host, process id, start time).
    pub name: String,
    /// `working`, `idle` or `done`.
    pub state: String,
    /// Results it had recorded.
    pub evaluated: u64,
    /// Seconds since it last touched the store.
    pub seen_seconds_ago: f64,
}

/// A trial held by a worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    /// The trial.
    pub trial: u64,
    /// The attempt.
    pub attempt: u32,
    /// Who holds it.
    pub worker: String,
    /// Seconds until it expires (negative: expired).
    pub expires_in: f64,
}

/// A failed attempt or a refused result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// The trial.
    pub trial: u64,
    /// The attempt.
    pub attempt: u32,
    /// The worker, where known.
    pub worker: Option<String>,
    /// What happened.
    pub message: String,
}

/// Everything `lopper study show` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyStatus {
    /// The study.
    pub name: String,
    /// Optimizer plugin.
    pub optimizer: String,
    /// Seed of the search.
    pub seed: u64,
    /// Its settings.
    pub parallel: usize,
    /// Seconds a lease lasts.
    pub lease_seconds: f64,
    /// Attempts before a trial fails.
    pub max_attempts: u32,
    /// The coordinator drove it to its budget.
    pub finished: bool,
    /// The coordinator holding it and the seconds its hold has left.
    pub coordinator: Option<(String, f64)>,
    /// Trials by state.
    pub trials: TrialCounts,
    /// Results refused because their worker had lost its lease.
    pub refused: u64,
    /// Workers that have touched the study.
    pub workers: Vec<WorkerStatus>,
    /// Trials held now.
    pub leases: Vec<Lease>,
    /// Trials given up on, and refused results.
    pub incidents: Vec<Incident>,
}

/// One line of `lopper study ls`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudySummary {
    /// The study.
    pub name: String,
    /// Optimizer plugin.
    pub optimizer: String,
    /// Trials told to the optimizer.
    pub told: u64,
    /// Trials in the store.
    pub trials: u64,
    /// Driven to its budget.
    pub finished: bool,
}

/// An open trial store.
pub struct TrialStore {
    url: StoreUrl,
    conn: Conn,
}

impl std::fmt::Debug for TrialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrialStore({})", self.url)
    }
}

impl TrialStore {
    /// Connects to `url` and creates the tables if they are missing.
    pub fn open(url: &StoreUrl) -> Result<Self> {
        let mut conn = Conn::open(url)?;
        conn.create_schema()
            .map_err(|e| SearchError::store(url, e))?;
        Ok(Self {
            url: url.clone(),
            conn,
        })
    }

    /// Where it is.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    fn err(&self, e: DbError) -> SearchError {
        SearchError::store(&self.url, e)
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        let r = self.conn.exec(sql, params);
        r.map_err(|e| self.err(e))
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        let r = self.conn.rows(sql, params);
        r.map_err(|e| self.err(e))
    }

    fn corrupt(&self, study: &str, message: impl Into<String>) -> SearchError {
        SearchError::Study(format!("{}: study `{study}`: {}", self.url, message.into()))
    }

    fn manifest(&mut self, study: &str) -> Result<Option<StudyManifest>> {
        let rows = self.rows(
            "SELECT manifest FROM lopper_studies WHERE name = $1",
            &[study.into()],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let text = row[0].text().unwrap_or_default().to_string();
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.corrupt(study, format!("unreadable settings: {e}")))
    }

    /// The settings of `study`, and what its workers load, as the caller's type.
    pub fn study_task<T: DeserializeOwned>(
        &mut self,
        study: &str,
    ) -> Result<Option<(StudySettings, T)>> {
        let Some(m) = self.manifest(study)? else {
            return Ok(None);
        };
        let task = serde_json::from_str(&m.task).map_err(|e| {
            self.corrupt(study, format!("its task is not one this lopper runs: {e}"))
        })?;
        Ok(Some((m.settings, task)))
    }

    /// Waits up to `timeout` for `study` to be created (a worker may start before its
    /// coordinator); its settings and task.
    pub fn wait_for_study<T: DeserializeOwned>(
        &mut self,
        study: &str,
        timeout: Duration,
        poll: Duration,
    ) -> Result<(StudySettings, T)> {
        let start = std::time::Instant::now();
        loop {
            if let Some(found) = self.study_task(study)? {
                return Ok(found);
            }
            if start.elapsed() >= timeout {
                return Err(SearchError::Study(format!(
                    "{}: no study `{study}` appeared within {:.0} s (start its coordinator with \
                     `lopper search … --store {} --study {study}`)",
                    self.url,
                    timeout.as_secs_f64(),
                    self.url
                )));
            }
            std::thread::sleep(poll);
        }
    }

    /// Creates `study` with `manifest`, or checks that the one there has the same settings;
    /// the checkpoint of an existing one.
    pub(crate) fn ensure_study(
        &mut self,
        study: &str,
        manifest: &StudyManifest,
    ) -> Result<Option<Checkpoint>> {
        let text = serde_json::to_string(manifest)
            .map_err(|e| SearchError::Settings(format!("the study's settings: {e}")))?;
        self.exec(
            "INSERT INTO lopper_studies (name, manifest, created_at) VALUES ($1, $2, @now) \
             ON CONFLICT (name) DO NOTHING",
            &[study.into(), text.into()],
        )?;
        let Some(old) = self.manifest(study)? else {
            return Err(self.corrupt(study, "vanished as it was created"));
        };
        if old != *manifest {
            return Err(SearchError::Resume {
                path: format!("{} (study `{study}`)", self.url).into(),
                message: format!(
                    "it was started with other settings ({}); use another study name",
                    describe(&old, manifest)
                ),
            });
        }
        let rows = self.rows(
            "SELECT checkpoint FROM lopper_studies WHERE name = $1",
            &[study.into()],
        )?;
        match rows.first().and_then(|r| r[0].text()) {
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| self.corrupt(study, format!("unreadable checkpoint: {e}"))),
            None => Ok(None),
        }
    }

    /// Takes the coordinator's hold on `study` for `me`, waiting while another holds it, up
    /// to `wait`.
    pub(crate) fn acquire(
        &mut self,
        study: &str,
        me: &str,
        lease: f64,
        wait: Duration,
        poll: Duration,
    ) -> Result<()> {
        let start = std::time::Instant::now();
        loop {
            let n = self.exec(
                "UPDATE lopper_studies SET coordinator = $2, coordinator_until = @now + $3 \
                 WHERE name = $1 AND (coordinator IS NULL OR coordinator = $2 \
                 OR coordinator_until < @now)",
                &[study.into(), me.into(), lease.into()],
            )?;
            if n == 1 {
                return Ok(());
            }
            if start.elapsed() >= wait {
                let rows = self.rows(
                    "SELECT coordinator, coordinator_until - @now FROM lopper_studies \
                     WHERE name = $1",
                    &[study.into()],
                )?;
                let (who, left) = rows
                    .first()
                    .map(|r| {
                        (
                            r[0].text().unwrap_or("?").to_string(),
                            r[1].real().unwrap_or(0.0),
                        )
                    })
                    .unwrap_or_default();
                return Err(SearchError::Study(format!(
                    "{}: study `{study}` is driven by coordinator {who} (its hold has {left:.1} s \
                     left); one coordinator per study",
                    self.url
                )));
            }
            std::thread::sleep(poll);
        }
    }

    /// Renews the coordinator's hold; an error if it was lost.
    pub(crate) fn renew_coordinator(&mut self, study: &str, me: &str, lease: f64) -> Result<()> {
        let n = self.exec(
            "UPDATE lopper_studies SET coordinator_until = @now + $3 \
             WHERE name = $1 AND coordinator = $2",
            &[study.into(), me.into(), lease.into()],
        )?;
        if n == 1 {
            Ok(())
        } else {
            Err(self.lost_hold(study, me))
        }
    }

    fn lost_hold(&self, study: &str, me: &str) -> SearchError {
        SearchError::Study(format!(
            "{}: coordinator {me} lost its hold on study `{study}` to another",
            self.url
        ))
    }

    /// Lets go of the study.
    pub(crate) fn release(&mut self, study: &str, me: &str) -> Result<()> {
        self.exec(
            "UPDATE lopper_studies SET coordinator = NULL, coordinator_until = NULL \
             WHERE name = $1 AND coordinator = $2",
            &[study.into(), me.into()],
        )?;
        Ok(())
    }

    /// The records of every told trial and every finished or failed one not yet told, in id
    /// order (a failed trial as a record with `failure` set and no values yet).
    pub(crate) fn results(&mut self, study: &str) -> Result<Vec<StoredResult>> {
        let rows = self.rows(
            "SELECT id, state, record, error, attempt FROM lopper_trials \
             WHERE study = $1 AND (told = 1 OR state = 'finished' OR state = 'failed') \
             ORDER BY id",
            &[study.into()],
        )?;
        rows.iter().map(|r| self.stored_result(study, r)).collect()
    }

    /// The records of the trials told to the optimizer, in id order: the study's trace.
    pub fn told_records(&mut self, study: &str) -> Result<Vec<TrialRecord>> {
        let rows = self.rows(
            "SELECT record FROM lopper_trials WHERE study = $1 AND told = 1 ORDER BY id",
            &[study.into()],
        )?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(r[0].text().unwrap_or_default())
                    .map_err(|e| self.corrupt(study, format!("unreadable record: {e}")))
            })
            .collect()
    }

    /// Finished or failed trials not yet told.
    pub(crate) fn untold(&mut self, study: &str) -> Result<Vec<StoredResult>> {
        let rows = self.rows(
            "SELECT id, state, record, error, attempt FROM lopper_trials \
             WHERE study = $1 AND told = 0 AND (state = 'finished' OR state = 'failed') \
             ORDER BY id",
            &[study.into()],
        )?;
        rows.iter().map(|r| self.stored_result(study, r)).collect()
    }

    fn stored_result(&self, study: &str, r: &[Val]) -> Result<StoredResult> {
        let id = r[0].int().unwrap_or(-1);
        let id = u64::try_from(id).map_err(|_| self.corrupt(study, format!("trial id {id}")))?;
        match (r[1].text(), r[2].text()) {
            (_, Some(text)) => serde_json::from_str(text)
                .map(StoredResult::Record)
                .map_err(|e| self.corrupt(study, format!("trial {id}: unreadable record: {e}"))),
            (Some("failed"), None) => Ok(StoredResult::Failed {
                id,
                message: format!(
                    "failed after {} attempts: {}",
                    r[4].int().unwrap_or(0),
                    r[3].text().unwrap_or("no reason recorded")
                ),
            }),
            _ => Err(self.corrupt(study, format!("trial {id} has no result"))),
        }
    }

    /// Marks running trials whose lease expired on their last attempt as failed.
    pub(crate) fn fail_expired(&mut self, study: &str, max_attempts: u32) -> Result<u64> {
        self.exec(
            "UPDATE lopper_trials SET state = 'failed', \
             error = 'the lease of worker ' || worker || ' expired', lease_until = NULL \
             WHERE study = $1 AND state = 'running' AND lease_until < @now AND attempt >= $2",
            &[study.into(), i64::from(max_attempts).into()],
        )
    }

    /// In one transaction: marks `told` as told (with their final records), queues `asked`,
    /// saves `checkpoint`, marks the study finished if `finished`, and renews the
    /// coordinator's hold (failing, and changing nothing, if `me` lost it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn commit(
        &mut self,
        study: &str,
        me: &str,
        lease: f64,
        told: &[TrialRecord],
        asked: &[Trial],
        checkpoint: &Checkpoint,
        finished: bool,
    ) -> Result<()> {
        let cp = serde_json::to_string(checkpoint)
            .map_err(|e| SearchError::Settings(format!("the checkpoint: {e}")))?;
        let records = record_texts(told)?;
        let mut points = Vec::with_capacity(asked.len());
        for t in asked {
            points.push(
                serde_json::to_string(&t.point)
                    .map_err(|e| SearchError::Settings(format!("trial {}: {e}", t.id)))?,
            );
        }
        let url = self.url.clone();
        let lost = self.lost_hold(study, me);
        self.conn.transaction(&url, |c| {
            let n = c
                .exec(
                    "UPDATE lopper_studies SET checkpoint = $2, finished = $3, \
                     coordinator_until = @now + $4 WHERE name = $1 AND coordinator = $5",
                    &[
                        study.into(),
                        cp.into(),
                        i64::from(finished).into(),
                        lease.into(),
                        me.into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if n != 1 {
                return Err(lost);
            }
            for (r, text) in told.iter().zip(records) {
                c.exec(
                    "UPDATE lopper_trials SET told = 1, record = $3 WHERE study = $1 AND id = $2",
                    &[study.into(), r.id.into(), text.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            for (t, point) in asked.iter().zip(points) {
                c.exec(
                    "INSERT INTO lopper_trials (study, id, point, state) \
                     VALUES ($1, $2, $3, 'queued') ON CONFLICT (study, id) DO NOTHING",
                    &[study.into(), t.id.into(), point.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            Ok(())
        })
    }

    /// Whether the coordinator drove `study` to its end.
    pub fn is_finished(&mut self, study: &str) -> Result<bool> {
        let rows = self.rows(
            "SELECT finished FROM lopper_studies WHERE name = $1",
            &[study.into()],
        )?;
        Ok(rows.first().and_then(|r| r[0].int()) == Some(1))
    }

    /// Records that `worker` is alive and what it is doing.
    pub fn worker_seen(&mut self, study: &str, worker: &str, state: &str) -> Result<()> {
        self.exec(
            "INSERT INTO lopper_workers (study, worker, started_at, seen_at, state) \
             VALUES ($1, $2, @now, @now, $3) \
             ON CONFLICT (study, worker) DO UPDATE SET seen_at = @now, state = $3",
            &[study.into(), worker.into(), state.into()],
        )?;
        Ok(())
    }

    /// Claims the lowest queued trial (or one whose lease expired with attempts left) for
    /// `worker`.
    pub fn claim(
        &mut self,
        study: &str,
        worker: &str,
        settings: &StudySettings,
    ) -> Result<Option<Claim>> {
        let url = self.url.clone();
        let claimed = self.conn.transaction(&url, |c| {
            let rows = c
                .rows(
                    "SELECT id, point, attempt FROM lopper_trials WHERE study = $1 \
                     AND attempt < $2 AND (state = 'queued' \
                     OR (state = 'running' AND lease_until < @now)) \
                     ORDER BY id LIMIT 1 @skip_locked",
                    &[study.into(), i64::from(settings.max_attempts).into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let id = row[0].int().unwrap_or(-1);
            c.exec(
                "UPDATE lopper_trials SET state = 'running', attempt = attempt + 1, \
                 worker = $3, lease_until = @now + $4 WHERE study = $1 AND id = $2",
                &[
                    study.into(),
                    id.into(),
                    worker.into(),
                    settings.lease_seconds.into(),
                ],
            )
            .map_err(|e| SearchError::store(&url, e))?;
            Ok(Some((
                id,
                row[1].text().unwrap_or_default().to_string(),
                row[2].int().unwrap_or(0) + 1,
            )))
        })?;
        let Some((id, point, attempt)) = claimed else {
            return Ok(None);
        };
        let id = u64::try_from(id).map_err(|_| self.corrupt(study, format!("trial id {id}")))?;
        let point: Point = serde_json::from_str(&point)
            .map_err(|e| self.corrupt(study, format!("trial {id}: unreadable point: {e}")))?;
        Ok(Some(Claim {
            trial: Trial { id, point },
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
        }))
    }

    /// Extends `worker`'s lease on `claim`; `false` if it no longer holds it.
    pub fn renew(&mut self, study: &str, worker: &str, claim: &Claim, lease: f64) -> Result<bool> {
        let n = self.exec(
            "UPDATE lopper_trials SET lease_until = @now + $5 WHERE study = $1 AND id = $2 \
             AND attempt = $3 AND worker = $4 AND state = 'running' AND lease_until >= @now",
            &[
                study.into(),
                claim.trial.id.into(),
                i64::from(claim.attempt).into(),
                worker.into(),
                lease.into(),
            ],
        )?;
        Ok(n == 1)
    }

    /// Records `record` for `claim` if `worker` still holds its lease; otherwise counts the
    /// refusal.
    pub fn complete(
        &mut self,
        study: &str,
        worker: &str,
        claim: &Claim,
        record: &TrialRecord,
    ) -> Result<Completion> {
        let text = serde_json::to_string(record)
            .map_err(|e| SearchError::Settings(format!("trial {}: {e}", record.id)))?;
        let url = self.url.clone();
        self.conn.transaction(&url, |c| {
            let n = c
                .exec(
                    "UPDATE lopper_trials SET state = 'finished', record = $5, \
                     lease_until = NULL WHERE study = $1 AND id = $2 AND attempt = $3 \
                     AND worker = $4 AND state = 'running' AND lease_until >= @now",
                    &[
                        study.into(),
                        claim.trial.id.into(),
                        i64::from(claim.attempt).into(),
                        worker.into(),
                        text.into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if n == 1 {
                c.exec(
                    "UPDATE lopper_workers SET evaluated = evaluated + 1, seen_at = @now \
                     WHERE study = $1 AND worker = $2",
                    &[study.into(), worker.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
                return Ok(Completion::Recorded);
            }
            c.exec(
                "INSERT INTO lopper_refusals (study, trial, attempt, worker, reason, at) \
                 VALUES ($1, $2, $3, $4, $5, @now)",
                &[
                    study.into(),
                    claim.trial.id.into(),
                    i64::from(claim.attempt).into(),
                    worker.into(),
                    "a late result: the worker had lost its lease".into(),
                ],
            )
            .map_err(|e| SearchError::store(&url, e))?;
            Ok(Completion::Refused)
        })
    }

    /// Gives `claim` back after its evaluation failed: queued again, or failed on its last
    /// attempt.
    pub fn fail(
        &mut self,
        study: &str,
        worker: &str,
        claim: &Claim,
        message: &str,
        settings: &StudySettings,
    ) -> Result<()> {
        self.exec(
            "UPDATE lopper_trials SET state = CASE WHEN attempt >= $4 THEN 'failed' \
             ELSE 'queued' END, error = $5, lease_until = NULL \
             WHERE study = $1 AND id = $2 AND attempt = $3 AND worker = $6 AND state = 'running'",
            &[
                study.into(),
                claim.trial.id.into(),
                i64::from(claim.attempt).into(),
                i64::from(settings.max_attempts).into(),
                format!("{worker}: {message}").into(),
                worker.into(),
            ],
        )?;
        Ok(())
    }

    /// Sends `claim`'s values (minimised) at `fidelity` to the coordinator's scheduler, if
    /// `worker` still holds the trial. A fidelity an earlier attempt of the trial already
    /// reported keeps the answer it got, so that the scheduler hears of each (trial,
    /// fidelity) once, in increasing fidelity, whatever the attempts.
    pub(crate) fn report(
        &mut self,
        study: &str,
        worker: &str,
        claim: &Claim,
        fidelity: u32,
        values: &[f64],
    ) -> Result<Verdict> {
        let text = serde_json::to_string(values)
            .map_err(|e| SearchError::Settings(format!("trial {}: {e}", claim.trial.id)))?;
        let url = self.url.clone();
        self.conn.transaction(&url, |c| {
            let held = c
                .rows(
                    "SELECT 1 FROM lopper_trials WHERE study = $1 AND id = $2 AND attempt = $3 \
                     AND worker = $4 AND state = 'running' AND lease_until >= @now",
                    &[
                        study.into(),
                        claim.trial.id.into(),
                        i64::from(claim.attempt).into(),
                        worker.into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if held.is_empty() {
                return Ok(Verdict::Lost);
            }
            let key = [
                Val::from(study),
                claim.trial.id.into(),
                i64::from(fidelity).into(),
            ];
            let earlier = c
                .rows(
                    "SELECT decision FROM lopper_reports \
                     WHERE study = $1 AND trial = $2 AND fidelity = $3",
                    &key,
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if let Some(row) = earlier.first() {
                if let Some(d) = row[0].text().and_then(decision_of) {
                    return Ok(Verdict::Decided(d));
                }
                c.exec(
                    "UPDATE lopper_reports SET attempt = $4, worker = $5, reported = $6, \
                     at = @now WHERE study = $1 AND trial = $2 AND fidelity = $3",
                    &[
                        key[0].clone(),
                        key[1].clone(),
                        key[2].clone(),
                        i64::from(claim.attempt).into(),
                        worker.into(),
                        text.into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            } else {
                c.exec(
                    "INSERT INTO lopper_reports \
                     (study, trial, fidelity, attempt, worker, reported, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, @now)",
                    &[
                        key[0].clone(),
                        key[1].clone(),
                        key[2].clone(),
                        i64::from(claim.attempt).into(),
                        worker.into(),
                        text.into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            Ok(Verdict::Waiting)
        })
    }

    /// The scheduler's answer to `claim`'s report at `fidelity`, if there is one yet.
    pub(crate) fn verdict(
        &mut self,
        study: &str,
        worker: &str,
        claim: &Claim,
        fidelity: u32,
    ) -> Result<Verdict> {
        let rows = self.rows(
            "SELECT r.decision, t.attempt, t.worker, t.state, \
             CASE WHEN t.lease_until >= @now THEN 1 ELSE 0 END, s.finished \
             FROM lopper_reports r \
             JOIN lopper_trials t ON t.study = r.study AND t.id = r.trial \
             JOIN lopper_studies s ON s.name = r.study \
             WHERE r.study = $1 AND r.trial = $2 AND r.fidelity = $3",
            &[
                study.into(),
                claim.trial.id.into(),
                i64::from(fidelity).into(),
            ],
        )?;
        let Some(row) = rows.first() else {
            return Ok(Verdict::Lost);
        };
        if let Some(d) = row[0].text().and_then(decision_of) {
            return Ok(Verdict::Decided(d));
        }
        if row[5].int() == Some(1) {
            return Ok(Verdict::Ended);
        }
        let held = row[1].int() == Some(i64::from(claim.attempt))
            && row[2].text() == Some(worker)
            && row[3].text() == Some("running")
            && row[4].int() == Some(1);
        Ok(if held {
            Verdict::Waiting
        } else {
            Verdict::Lost
        })
    }

    /// Reports waiting for the scheduler from workers that still hold their trials, in the
    /// order they came.
    pub(crate) fn pending_reports(&mut self, study: &str) -> Result<Vec<PendingReport>> {
        let rows = self.rows(
            "SELECT r.trial, r.fidelity, r.reported FROM lopper_reports r \
             JOIN lopper_trials t ON t.study = r.study AND t.id = r.trial \
             WHERE r.study = $1 AND r.decision IS NULL AND t.state = 'running' \
             AND t.attempt = r.attempt ORDER BY r.at, r.trial, r.fidelity",
            &[study.into()],
        )?;
        rows.iter()
            .map(|r| {
                let trial = r[0].int().and_then(|v| u64::try_from(v).ok());
                let fidelity = r[1].int().and_then(|v| u32::try_from(v).ok());
                let values = r[2].text().and_then(|t| serde_json::from_str(t).ok());
                match (trial, fidelity, values) {
                    (Some(trial), Some(fidelity), Some(values)) => Ok(PendingReport {
                        trial,
                        fidelity,
                        values,
                    }),
                    _ => Err(self.corrupt(study, format!("an unreadable report {r:?}"))),
                }
            })
            .collect()
    }

    /// In one transaction: the scheduler's `decisions` and the checkpoint that holds the
    /// scheduler's state after them (failing, and changing nothing, if `me` lost the study).
    pub(crate) fn decide(
        &mut self,
        study: &str,
        me: &str,
        decisions: &[(u64, u32, Decision)],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        let cp = serde_json::to_string(checkpoint)
            .map_err(|e| SearchError::Settings(format!("the checkpoint: {e}")))?;
        let url = self.url.clone();
        let lost = self.lost_hold(study, me);
        self.conn.transaction(&url, |c| {
            let n = c
                .exec(
                    "UPDATE lopper_studies SET checkpoint = $2 \
                     WHERE name = $1 AND coordinator = $3",
                    &[study.into(), cp.into(), me.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if n != 1 {
                return Err(lost);
            }
            for &(trial, fidelity, d) in decisions {
                c.exec(
                    "UPDATE lopper_reports SET decision = $4 \
                     WHERE study = $1 AND trial = $2 AND fidelity = $3",
                    &[
                        study.into(),
                        trial.into(),
                        i64::from(fidelity).into(),
                        decision_text(d).into(),
                    ],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            Ok(())
        })
    }

    /// The scheduler's highest fidelity, for a multi-fidelity study.
    pub(crate) fn max_fidelity(&mut self, study: &str) -> Result<Option<u32>> {
        Ok(self.manifest(study)?.and_then(|m| m.max_fidelity))
    }

    /// What a run folder's study holds: its settings, checkpoint and the records of its
    /// finished trials in id order.
    pub(crate) fn run_state(
        &mut self,
        study: &str,
    ) -> Result<(Option<RunManifest>, Option<Checkpoint>, Vec<TrialRecord>)> {
        let rows = self.rows(
            "SELECT manifest, checkpoint FROM lopper_studies WHERE name = $1",
            &[study.into()],
        )?;
        let (mut manifest, mut checkpoint) = (None, None);
        if let Some(row) = rows.first() {
            // `null`: a folder of an earlier version imported without its settings.
            let m: Option<StudyManifest> = serde_json::from_str(row[0].text().unwrap_or_default())
                .map_err(|e| self.corrupt(study, format!("unreadable settings: {e}")))?;
            manifest = m.map(|m| m.run);
            if let Some(text) = row[1].text() {
                checkpoint = Some(
                    serde_json::from_str(text)
                        .map_err(|e| self.corrupt(study, format!("unreadable checkpoint: {e}")))?,
                );
            }
        }
        let rows = self.rows(
            "SELECT record FROM lopper_trials WHERE study = $1 AND record IS NOT NULL \
             ORDER BY id",
            &[study.into()],
        )?;
        let records = rows
            .iter()
            .map(|r| {
                serde_json::from_str(r[0].text().unwrap_or_default())
                    .map_err(|e| self.corrupt(study, format!("unreadable record: {e}")))
            })
            .collect::<Result<Vec<TrialRecord>>>()?;
        Ok((manifest, checkpoint, records))
    }

    /// Writes a run folder's settings (replacing those of a start that never asked).
    pub(crate) fn run_manifest(&mut self, study: &str, manifest: &StudyManifest) -> Result<()> {
        let text = serde_json::to_string(manifest)
            .map_err(|e| SearchError::Settings(format!("the study's settings: {e}")))?;
        self.exec(
            "INSERT INTO lopper_studies (name, manifest, created_at) VALUES ($1, $2, @now) \
             ON CONFLICT (name) DO UPDATE SET manifest = $2",
            &[study.into(), text.into()],
        )?;
        Ok(())
    }

    /// Stores a finished trial of a run folder (not yet told).
    pub(crate) fn run_append(&mut self, study: &str, record: &TrialRecord) -> Result<()> {
        let text = serde_json::to_string(record)
            .map_err(|e| SearchError::Settings(format!("trial {}: {e}", record.id)))?;
        let point = serde_json::to_string(&record.point)
            .map_err(|e| SearchError::Settings(format!("trial {}: {e}", record.id)))?;
        self.exec(
            "INSERT INTO lopper_trials (study, id, point, state, record) \
             VALUES ($1, $2, $3, 'finished', $4) \
             ON CONFLICT (study, id) DO UPDATE SET point = $3, state = 'finished', record = $4",
            &[study.into(), record.id.into(), point.into(), text.into()],
        )?;
        Ok(())
    }

    /// In one transaction: marks `told` as told (with their final records) and saves
    /// `checkpoint`, for a run folder.
    pub(crate) fn run_commit(
        &mut self,
        study: &str,
        checkpoint: &Checkpoint,
        told: &[TrialRecord],
        finished: bool,
    ) -> Result<()> {
        let cp = serde_json::to_string(checkpoint)
            .map_err(|e| SearchError::Settings(format!("the checkpoint: {e}")))?;
        let records = record_texts(told)?;
        let url = self.url.clone();
        let missing = self.corrupt(study, "a checkpoint for a run that was never started");
        self.conn.transaction(&url, |c| {
            let n = c
                .exec(
                    "UPDATE lopper_studies SET checkpoint = $2, finished = $3 WHERE name = $1",
                    &[study.into(), cp.into(), i64::from(finished).into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            if n != 1 {
                return Err(missing);
            }
            for (r, text) in told.iter().zip(records) {
                c.exec(
                    "UPDATE lopper_trials SET told = 1, record = $3 WHERE study = $1 AND id = $2",
                    &[study.into(), r.id.into(), text.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            Ok(())
        })
    }

    /// Imports a run folder of an earlier version, in one transaction: its settings, its
    /// checkpoint and its records (those not outstanding in the checkpoint as told).
    pub(crate) fn run_import(
        &mut self,
        study: &str,
        manifest: Option<&StudyManifest>,
        checkpoint: Option<&Checkpoint>,
        records: &[TrialRecord],
    ) -> Result<()> {
        let bad = |what: &str, e: serde_json::Error| SearchError::Settings(format!("{what}: {e}"));
        let manifest = manifest
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| bad("the settings", e))?;
        let cp = checkpoint
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| bad("the checkpoint", e))?;
        let outstanding: std::collections::BTreeSet<u64> = checkpoint
            .map(|c| c.outstanding.iter().map(|t| t.id).collect())
            .unwrap_or_default();
        let mut rows = Vec::with_capacity(records.len());
        for r in records {
            rows.push((
                r.id,
                serde_json::to_string(&r.point).map_err(|e| bad("a point", e))?,
                serde_json::to_string(r).map_err(|e| bad("a record", e))?,
                i64::from(checkpoint.is_some() && !outstanding.contains(&r.id)),
            ));
        }
        let url = self.url.clone();
        self.conn.transaction(&url, |c| {
            let fail = |e| SearchError::store(&url, e);
            c.exec(
                "DELETE FROM lopper_trials WHERE study = $1",
                &[study.into()],
            )
            .map_err(fail)?;
            c.exec(
                "DELETE FROM lopper_studies WHERE name = $1",
                &[study.into()],
            )
            .map_err(fail)?;
            // A log without settings (a folder cut short at its first write) still keeps
            // its records; the runner then refuses it as a partial run, as before.
            let manifest = manifest.unwrap_or_else(|| "null".into());
            c.exec(
                "INSERT INTO lopper_studies (name, manifest, checkpoint, created_at) \
                 VALUES ($1, $2, $3, @now)",
                &[
                    study.into(),
                    manifest.into(),
                    cp.map_or(Val::Null, Val::from),
                ],
            )
            .map_err(fail)?;
            for (id, point, record, told) in rows {
                c.exec(
                    "INSERT INTO lopper_trials (study, id, point, state, record, told) \
                     VALUES ($1, $2, $3, 'finished', $4, $5) \
                     ON CONFLICT (study, id) DO UPDATE SET point = $3, record = $4, told = $5",
                    &[
                        study.into(),
                        id.into(),
                        point.into(),
                        record.into(),
                        told.into(),
                    ],
                )
                .map_err(fail)?;
            }
            Ok(())
        })
    }

    /// The studies in the store.
    pub fn studies(&mut self) -> Result<Vec<StudySummary>> {
        let rows = self.rows(
            "SELECT s.name, s.manifest, s.finished, \
             (SELECT COUNT(*) FROM lopper_trials t WHERE t.study = s.name), \
             (SELECT COUNT(*) FROM lopper_trials t WHERE t.study = s.name AND t.told = 1) \
             FROM lopper_studies s ORDER BY s.name",
            &[],
        )?;
        let mut out = Vec::new();
        for r in rows {
            let name = r[0].text().unwrap_or_default().to_string();
            let manifest: StudyManifest = serde_json::from_str(r[1].text().unwrap_or_default())
                .map_err(|e| self.corrupt(&name, format!("unreadable settings: {e}")))?;
            out.push(StudySummary {
                optimizer: manifest.run.optimizer,
                finished: r[2].int() == Some(1),
                trials: r[3].int().unwrap_or(0).max(0) as u64,
                told: r[4].int().unwrap_or(0).max(0) as u64,
                name,
            });
        }
        Ok(out)
    }

    /// Everything about `study`: progress, coordinator, workers, leases, failures.
    pub fn status(&mut self, study: &str) -> Result<StudyStatus> {
        let Some(manifest) = self.manifest(study)? else {
            return Err(SearchError::Study(format!(
                "{}: no study `{study}`",
                self.url
            )));
        };
        let head = self.rows(
            "SELECT finished, coordinator, coordinator_until - @now FROM lopper_studies \
             WHERE name = $1",
            &[study.into()],
        )?;
        let (finished, coordinator) = match head.first() {
            Some(r) => (
                r[0].int() == Some(1),
                r[1].text()
                    .map(|c| (c.to_string(), r[2].real().unwrap_or(0.0))),
            ),
            None => (false, None),
        };
        let mut trials = TrialCounts::default();
        for r in self.rows(
            "SELECT state, told, COUNT(*) FROM lopper_trials WHERE study = $1 \
             GROUP BY state, told",
            &[study.into()],
        )? {
            let n = r[2].int().unwrap_or(0).max(0) as u64;
            match r[0].text() {
                Some("queued") => trials.queued += n,
                Some("running") => trials.running += n,
                Some("finished") => trials.finished += n,
                Some("failed") => trials.failed += n,
                _ => {}
            }
            if r[1].int() == Some(1) {
                trials.told += n;
            }
        }
        let workers = self
            .rows(
                "SELECT worker, state, evaluated, @now - seen_at FROM lopper_workers \
                 WHERE study = $1 ORDER BY started_at, worker",
                &[study.into()],
            )?
            .into_iter()
            .map(|r| WorkerStatus {
                name: r[0].text().unwrap_or_default().to_string(),
                state: r[1].text().unwrap_or_default().to_string(),
                evaluated: r[2].int().unwrap_or(0).max(0) as u64,
                seen_seconds_ago: r[3].real().unwrap_or(0.0),
            })
            .collect();
        let leases = self
            .rows(
                "SELECT id, attempt, worker, lease_until - @now FROM lopper_trials \
                 WHERE study = $1 AND state = 'running' ORDER BY id",
                &[study.into()],
            )?
            .into_iter()
            .map(|r| Lease {
                trial: r[0].int().unwrap_or(0).max(0) as u64,
                attempt: r[1].int().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                worker: r[2].text().unwrap_or_default().to_string(),
                expires_in: r[3].real().unwrap_or(0.0),
            })
            .collect();
        let mut incidents: Vec<Incident> = self
            .rows(
                "SELECT id, attempt, error FROM lopper_trials WHERE study = $1 \
                 AND error IS NOT NULL ORDER BY id",
                &[study.into()],
            )?
            .into_iter()
            .map(|r| Incident {
                trial: r[0].int().unwrap_or(0).max(0) as u64,
                attempt: r[1].int().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                worker: None,
                message: r[2].text().unwrap_or_default().to_string(),
            })
            .collect();
        let refusals = self.rows(
            "SELECT trial, attempt, worker, reason FROM lopper_refusals WHERE study = $1 \
             ORDER BY at",
            &[study.into()],
        )?;
        let refused = refusals.len() as u64;
        incidents.extend(refusals.into_iter().map(|r| Incident {
            trial: r[0].int().unwrap_or(0).max(0) as u64,
            attempt: r[1].int().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
            worker: r[2].text().map(str::to_string),
            message: r[3].text().unwrap_or_default().to_string(),
        }));
        Ok(StudyStatus {
            name: study.to_string(),
            optimizer: manifest.run.optimizer,
            seed: manifest.run.seed,
            parallel: manifest.settings.parallel,
            lease_seconds: manifest.settings.lease_seconds,
            max_attempts: manifest.settings.max_attempts,
            finished,
            coordinator,
            trials,
            refused,
            workers,
            leases,
            incidents,
        })
    }

    /// Removes `study` and everything about it; whether there was one.
    pub fn remove(&mut self, study: &str) -> Result<bool> {
        let url = self.url.clone();
        self.conn.transaction(&url, |c| {
            let mut n = 0;
            for table in [
                "lopper_refusals",
                "lopper_reports",
                "lopper_workers",
                "lopper_trials",
            ] {
                c.exec(
                    &format!("DELETE FROM {table} WHERE study = $1"),
                    &[study.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            }
            n += c
                .exec(
                    "DELETE FROM lopper_studies WHERE name = $1",
                    &[study.into()],
                )
                .map_err(|e| SearchError::store(&url, e))?;
            Ok(n == 1)
        })
    }
}

/// A result as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredResult {
    /// Recorded by a worker (or told, with its final record).
    Record(TrialRecord),
    /// Given up on.
    Failed { id: u64, message: String },
}

impl StoredResult {
    pub(crate) fn id(&self) -> u64 {
        match self {
            StoredResult::Record(r) => r.id,
            StoredResult::Failed { id, .. } => *id,
        }
    }
}

fn describe(old: &StudyManifest, new: &StudyManifest) -> String {
    let mut diffs = Vec::new();
    if old.run != new.run {
        diffs.push(format!(
            "optimizer {} {}, seed {}",
            old.run.optimizer, old.run.optimizer_config, old.run.seed
        ));
    }
    if old.settings != new.settings {
        diffs.push(format!(
            "parallel {}, lease {} s, {} attempts",
            old.settings.parallel, old.settings.lease_seconds, old.settings.max_attempts
        ));
    }
    if old.task != new.task {
        diffs.push(format!("task {}", old.task));
    }
    diffs.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopper_core::Objective;

    fn stores(dir: &std::path::Path) -> Vec<StoreUrl> {
        lopper_testkit::stores::store_urls(dir)
            .iter()
            .map(|u| u.parse().unwrap())
            .collect()
    }

    use lopper_testkit::stores::unique_name as unique;

    fn manifest(settings: &StudySettings) -> StudyManifest {
        StudyManifest {
            run: RunManifest {
                optimizer: "random".into(),
                optimizer_config: serde_json::Value::Null,
                scheduler: None,
                seed: 0,
                objectives: vec![Objective::minimize("f", "")],
                dims: 1,
                initial_design: false,
            },
            settings: settings.clone(),
            task: "null".into(),
            max_fidelity: None,
        }
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            optimizer: serde_json::Value::Null,
            scheduler: None,
            outstanding: vec![],
            elapsed_seconds: 0.0,
        }
    }

    fn record(id: u64, value: f64) -> TrialRecord {
        TrialRecord {
            id,
            point: Point(vec![id as i64]),
            values: vec![value],
            fidelity: None,
            eval_seconds: 0.0,
            finished_at: 0.0,
            failure: None,
            info: serde_json::Value::Null,
        }
    }

    /// A study with trials `0..n` queued by coordinator `c`.
    fn queued(store: &mut TrialStore, settings: &StudySettings, n: u64) -> String {
        let study = unique("unit");
        assert!(
            store
                .ensure_study(&study, &manifest(settings))
                .unwrap()
                .is_none()
        );
        let poll = Duration::from_millis(10);
        store
            .acquire(&study, "c", 5.0, Duration::ZERO, poll)
            .unwrap();
        let trials: Vec<Trial> = (0..n)
            .map(|id| Trial {
                id,
                point: Point(vec![id as i64]),
            })
            .collect();
        store
            .commit(&study, "c", 5.0, &[], &trials, &checkpoint(), false)
            .unwrap();
        study
    }

    #[test]
    fn a_late_result_is_refused_and_the_second_attempt_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StudySettings {
            parallel: 1,
            lease_seconds: 0.3,
            max_attempts: 3,
        };
        for url in stores(dir.path()) {
            let mut store = TrialStore::open(&url).unwrap();
            let study = queued(&mut store, &settings, 2);
            let first = store.claim(&study, "a", &settings).unwrap().unwrap();
            assert_eq!((first.trial.id, first.attempt), (0, 1));
            // Another worker takes the next trial, not the held one.
            let other = store.claim(&study, "b", &settings).unwrap().unwrap();
            assert_eq!((other.trial.id, other.attempt), (1, 1));
            assert!(store.claim(&study, "b", &settings).unwrap().is_none());
            std::thread::sleep(Duration::from_millis(450));
            // Worker a's lease ran out: it can no longer renew, and b gets trial 0 again.
            assert!(!store.renew(&study, "a", &first, 0.3).unwrap());
            let second = store.claim(&study, "b", &settings).unwrap().unwrap();
            assert_eq!((second.trial.id, second.attempt), (0, 2));
            assert!(store.renew(&study, "b", &second, 5.0).unwrap());
            let late = store.complete(&study, "a", &first, &record(0, 1.0));
            assert_eq!(late.unwrap(), Completion::Refused, "{url}");
            let done = store.complete(&study, "b", &second, &record(0, 2.0));
            assert_eq!(done.unwrap(), Completion::Recorded);
            // Recorded once: a repeat of the same completion is refused too.
            let again = store.complete(&study, "b", &second, &record(0, 3.0));
            assert_eq!(again.unwrap(), Completion::Refused);
            let results = store.results(&study).unwrap();
            assert_eq!(results, vec![StoredResult::Record(record(0, 2.0))]);
            let status = store.status(&study).unwrap();
            assert_eq!(status.refused, 2);
            assert_eq!(status.trials.finished, 1);
            assert_eq!(status.trials.running, 1);
            assert!(store.remove(&study).unwrap());
        }
    }

    #[test]
    fn reports_are_answered_once_per_fidelity_and_fenced_by_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StudySettings {
            parallel: 1,
            lease_seconds: 0.3,
            max_attempts: 3,
        };
        for url in stores(dir.path()) {
            let mut store = TrialStore::open(&url).unwrap();
            let study = queued(&mut store, &settings, 1);
            let first = store.claim(&study, "a", &settings).unwrap().unwrap();
            let v = store.report(&study, "a", &first, 1, &[0.5]).unwrap();
            assert_eq!(v, Verdict::Waiting, "{url}");
            assert_eq!(
                store.verdict(&study, "a", &first, 1).unwrap(),
                Verdict::Waiting
            );
            let pending = store.pending_reports(&study).unwrap();
            assert_eq!(
                pending,
                vec![PendingReport {
                    trial: 0,
                    fidelity: 1,
                    values: vec![0.5]
                }]
            );
            let mut cp = checkpoint();
            cp.scheduler = Some(serde_json::json!({"seen": 1}));
            store
                .decide(&study, "c", &[(0, 1, Decision::Continue)], &cp)
                .unwrap();
            assert!(store.pending_reports(&study).unwrap().is_empty());
            assert_eq!(
                store.verdict(&study, "a", &first, 1).unwrap(),
                Verdict::Decided(Decision::Continue)
            );
            // The answer and the scheduler's state were written together.
            let saved = store.ensure_study(&study, &manifest(&settings)).unwrap();
            assert_eq!(saved.unwrap().scheduler, cp.scheduler);
            // Only the coordinator holding the study may answer.
            let stolen = store.decide(&study, "x", &[(0, 1, Decision::Stop)], &cp);
            assert!(stolen.is_err());
            // Worker a waits on fidelity 2 and then falls silent; its lease runs out.
            assert_eq!(
                store.report(&study, "a", &first, 2, &[0.4]).unwrap(),
                Verdict::Waiting
            );
            std::thread::sleep(Duration::from_millis(450));
            assert_eq!(
                store.verdict(&study, "a", &first, 2).unwrap(),
                Verdict::Lost
            );
            // Its report may still be answered (the scheduler hears of fidelity 2 once, and
            // the next attempt gets that answer); here the coordinator has not come round.
            assert_eq!(store.pending_reports(&study).unwrap().len(), 1);
            // The second attempt gets fidelity 1's answer at once, without the scheduler.
            let second = store.claim(&study, "b", &settings).unwrap().unwrap();
            assert_eq!(second.attempt, 2);
            assert_eq!(
                store.report(&study, "b", &second, 1, &[0.5]).unwrap(),
                Verdict::Decided(Decision::Continue)
            );
            // Its report at fidelity 2 takes over the stale one.
            assert_eq!(
                store.report(&study, "b", &second, 2, &[0.4]).unwrap(),
                Verdict::Waiting
            );
            assert_eq!(store.pending_reports(&study).unwrap().len(), 1);
            assert_eq!(
                store.report(&study, "a", &first, 3, &[0.3]).unwrap(),
                Verdict::Lost
            );
            assert!(store.remove(&study).unwrap());
        }
    }

    #[test]
    fn a_trial_fails_after_its_last_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StudySettings {
            parallel: 1,
            lease_seconds: 0.2,
            max_attempts: 2,
        };
        for url in stores(dir.path()) {
            let mut store = TrialStore::open(&url).unwrap();
            let study = queued(&mut store, &settings, 1);
            // The first attempt fails outright and goes back to the queue.
            let c1 = store.claim(&study, "a", &settings).unwrap().unwrap();
            store
                .fail(&study, "a", &c1, "out of memory", &settings)
                .unwrap();
            // The second one is abandoned: its lease runs out.
            let c2 = store.claim(&study, "a", &settings).unwrap().unwrap();
            assert_eq!(c2.attempt, 2);
            std::thread::sleep(Duration::from_millis(300));
            // No attempt is left to claim; the coordinator marks it failed.
            assert!(store.claim(&study, "b", &settings).unwrap().is_none());
            assert_eq!(
                store.fail_expired(&study, settings.max_attempts).unwrap(),
                1
            );
            match &store.results(&study).unwrap()[..] {
                [StoredResult::Failed { id: 0, message }] => {
                    assert!(message.contains("2 attempts"), "{message}");
                    assert!(message.contains("expired"), "{message}");
                }
                other => panic!("{url}: {other:?}"),
            }
            assert_eq!(store.status(&study).unwrap().trials.failed, 1);
            assert!(store.remove(&study).unwrap());
        }
    }

    #[test]
    fn one_coordinator_per_study() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StudySettings::default();
        for url in stores(dir.path()) {
            let mut store = TrialStore::open(&url).unwrap();
            let study = queued(&mut store, &settings, 0);
            let poll = Duration::from_millis(10);
            let refused = store.acquire(&study, "d", 5.0, Duration::from_millis(50), poll);
            assert!(
                refused
                    .unwrap_err()
                    .to_string()
                    .contains("driven by coordinator c")
            );
            // A commit by a process without the hold changes nothing.
            let t = Trial {
                id: 0,
                point: Point(vec![0]),
            };
            let commit = store.commit(&study, "d", 5.0, &[], &[t], &checkpoint(), true);
            assert!(commit.is_err());
            assert!(!store.is_finished(&study).unwrap());
            assert!(store.claim(&study, "w", &settings).unwrap().is_none());
            store.release(&study, "c").unwrap();
            store
                .acquire(&study, "d", 5.0, Duration::ZERO, poll)
                .unwrap();
            assert!(store.remove(&study).unwrap());
        }
    }

    #[test]
    fn a_study_refuses_other_settings() {
        let dir = tempfile::tempdir().unwrap();
        let settings = StudySettings::default();
        for url in stores(dir.path()) {
            let mut store = TrialStore::open(&url).unwrap();
            let study = queued(&mut store, &settings, 0);
            let other = StudySettings {
                parallel: 4,
                ..settings.clone()
            };
            let e = store.ensure_study(&study, &manifest(&other)).unwrap_err();
            assert!(e.to_string().contains("parallel 1"), "{e}");
            assert!(store.remove(&study).unwrap());
        }
    }
}
