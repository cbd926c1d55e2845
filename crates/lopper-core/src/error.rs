//! The error type of `lopper-core`.

use std::sync::Arc;

use thiserror::Error;

/// Everything that can go wrong in the shared vocabulary: bad shapes, bad points, unknown
/// plugins, bookkeeping errors of an optimizer.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// An [`Arch`](crate::Arch) whose sizes contradict each other.
    #[error("invalid architecture: {0}")]
    InvalidArch(String),
    /// A [`Subnet`](crate::Subnet) that does not fit its architecture.
    #[error("invalid sub-network: {0}")]
    InvalidSubnet(String),
    /// A [`Point`](crate::Point) that is not a member of its space.
    #[error("invalid point: {0}")]
    InvalidPoint(String),
    /// No plugin of that name is linked in.
    #[error("unknown {kind} `{name}`; known {kind}s: {}", known.join(", "))]
    UnknownPlugin {
        /// `optimizer`, `scheduler`, `objective`, …
        kind: String,
        /// The name asked for.
        name: String,
        /// Every registered name, sorted.
        known: Vec<String>,
    },
    /// Two linked plugins registered the same name.
    #[error("{count} {kind} plugins are registered as `{name}`; refusing to pick one")]
    DuplicatePlugin {
        /// `optimizer`, `scheduler`, `objective`, …
        kind: String,
        /// The contested name.
        name: String,
        /// How many plugins claim it.
        count: usize,
    },
    /// A plugin's configuration value could not be understood.
    #[error("bad configuration for plugin `{plugin}`: {message}")]
    Config {
        /// The plugin whose configuration failed.
        plugin: String,
        /// What was wrong.
        message: String,
    },
    /// `tell` named a trial that was never asked or was already told.
    #[error("unknown trial id {0}: it was never asked, or it was already told")]
    UnknownTrial(u64),
    /// An evaluation carried the wrong number of objective values.
    #[error("expected {expected} objective values, found {found}")]
    ObjectiveCount {
        /// Objectives the optimizer was built for.
        expected: usize,
        /// Values received.
        found: usize,
    },
    /// An objective value that is not a number where one is needed.
    #[error("objective value {value} of trial {trial} is not finite")]
    NonFinite {
        /// The trial.
        trial: u64,
        /// The offending value.
        value: f64,
    },
    /// A search space that cannot be built as asked.
    #[error("invalid search space: {0}")]
    InvalidSpace(String),
    /// An optional capability the component does not have.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Saving or restoring serialised state failed.
    #[error("state (de)serialisation failed: {0}")]
    State(#[source] StateError),
}

/// serde's error (de)serialising an optimizer's or scheduler's state, kept whole: shared, so
/// that [`CoreError`] stays `Clone`; two are equal when they say the same.
#[derive(Debug, Clone)]
pub struct StateError(Arc<serde_json::Error>);

impl StateError {
    /// The serde error.
    pub fn serde(&self) -> &serde_json::Error {
        &self.0
    }
}

impl From<serde_json::Error> for StateError {
    fn from(e: serde_json::Error) -> Self {
        Self(Arc::new(e))
    }
}

impl PartialEq for StateError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
