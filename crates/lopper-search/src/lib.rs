//! # lopper-search
//!
//! The runner of a multi-objective search. It owns the loop, as argmin's `Executor` does; an
//! optimizer plugin only answers ask and tell. The runner brings:
//!
//! - budgets: a number of evaluations and a wall-clock time;
//! - an [`Evaluator`] trait, called from `workers` threads in parallel, with results told to the
//!   optimizer in trial-id order;
//! - a multi-fidelity path: an evaluator reports intermediate results through its
//!   [`EvalContext`] and a [`Scheduler`](lopper_core::Scheduler) plugin may stop it early;
//! - [`Observer`]s: what watches a search (the `lopper` command installs a progress bar);
//! - a run folder ([`RunStore`]): an SQLite database holding every finished trial, stored
//!   before it is told, and the optimizer's state, saved in the same transaction as each
//!   tell, so that a killed search started again with the same command resumes without
//!   losing a finished trial (folders of earlier versions are migrated);
//! - the paper's initial design (upper bound, lower bound and mid-point first);
//! - a trial store ([`TrialStore`]: SQLite, or PostgreSQL with the `postgres` feature) through
//!   which one coordinator ([`Search::study`]) and any number of [`Worker`] processes on any
//!   number of machines run one search, with leases, fencing and retries.

mod db;
mod error;
mod evaluator;
mod observer;
mod record;
mod runner;
mod store;
mod study;
mod worker;

pub use db::{DbError, StoreUrl};
pub use error::{Result, SearchError};
pub use evaluator::{EvalContext, Evaluator, Measurement};
pub use observer::{Observer, Progress};
pub use record::TrialRecord;
pub use runner::{Search, SearchConfig, SearchResult, StopReason};
pub use store::{Checkpoint, Opened, RUN_DB, RUN_STUDY, RunManifest, RunStore, read_trials};
pub use study::{
    Claim, Completion, Incident, Lease, StudySettings, StudyStatus, StudySummary, TrialCounts,
    TrialStore, WorkerStatus,
};
pub use worker::{Worker, WorkerEvent, WorkerSummary};
