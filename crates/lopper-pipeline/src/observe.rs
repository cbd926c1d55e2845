//! What watches the stages: progress bars and messages are the caller's (the `lopper`
//! command installs bars and prints results); the library forces no UI on anyone.

use std::path::Path;

use lopper_search::Observer;
use lopper_train::FitObserver;

use crate::{EvalRecord, Exported, FrontMember, SearchOutcome, Stage, TrainOutcome};

/// Watches the stages. Every method has a default that does nothing.
pub trait Observers: Sync {
    /// An observer of a fine-tuning run labelled `label`, if any.
    fn fit(&self, _label: &str) -> Option<Box<dyn FitObserver>> {
        None
    }
    /// An observer of a search labelled `label`, if any.
    fn search(&self, _label: &str) -> Option<Box<dyn Observer>> {
        None
    }
    /// A line of what is going on (what is loaded, trained, searched).
    fn message(&self, _text: &str) {}
    /// `done` of `total` pieces of the work labelled `label` are done (a progress bar's
    /// position; the bar ends when `done` reaches `total`).
    fn progress(&self, _label: &str, _done: usize, _total: usize) {}
    /// A pipeline stage starts (`skipped`: its output at `output` exists).
    fn stage(&self, _stage: Stage, _output: &Path, _skipped: bool) {}
    /// Training finished.
    fn trained(&self, _outcome: &TrainOutcome, _dir: &Path) {}
    /// A search finished.
    fn searched(&self, _outcome: &SearchOutcome, _dir: &Path) {}
    /// A member was selected.
    fn selected(&self, _member: &FrontMember) {}
    /// A model was exported.
    fn exported(&self, _exported: &Exported) {}
    /// A model was evaluated.
    fn evaluated(&self, _record: &EvalRecord) {}
}

/// Watches nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observers for Silent {}
