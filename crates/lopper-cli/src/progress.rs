//! What the command shows of the library's work: the library's progress bars
//! ([`lopper::pipeline::Bars`]) for the long stages and messages, and each pipeline stage's
//! results printed as its own command prints them. The stages report to [`Observers`]; the
//! command installs [`Bars`].

use std::path::Path;

use lopper::pipeline::{
    EvalRecord, Exported, FrontMember, Observers, SearchOutcome, Stage, TrainOutcome,
};
use lopper::search::Observer;
use lopper::train::FitObserver;

/// Bars and messages, or none but the results and errors (`--quiet`).
#[derive(Debug)]
pub struct Bars {
    bars: lopper::pipeline::Bars,
}

impl Bars {
    /// Bars when `show`, else none.
    pub fn new(show: bool) -> Self {
        Self {
            bars: lopper::pipeline::Bars::new(show, "lopper"),
        }
    }
}

impl Observers for Bars {
    fn fit(&self, label: &str) -> Option<Box<dyn FitObserver>> {
        self.bars.fit(label)
    }

    fn search(&self, label: &str) -> Option<Box<dyn Observer>> {
        self.bars.search(label)
    }

    fn message(&self, text: &str) {
        self.bars.message(text);
    }

    fn progress(&self, label: &str, done: usize, total: usize) {
        self.bars.progress(label, done, total);
    }

    fn stage(&self, stage: Stage, output: &Path, skipped: bool) {
        if skipped {
            eprintln!(
                "lopper: {stage}: done ({} exists), skipped",
                output.display()
            );
        } else {
            eprintln!("lopper: === {stage} ===");
        }
    }

    fn trained(&self, outcome: &TrainOutcome, dir: &Path) {
        crate::train::print(outcome, dir);
    }

    fn searched(&self, outcome: &SearchOutcome, dir: &Path) {
        if let Err(e) = crate::search::print(outcome, dir) {
            eprintln!("lopper: warning: {e:#}");
        }
    }

    fn selected(&self, member: &FrontMember) {
        if let Err(e) = crate::select::print(member) {
            eprintln!("lopper: warning: {e:#}");
        }
    }

    fn exported(&self, exported: &Exported) {
        crate::export::print(exported);
    }

    fn evaluated(&self, record: &EvalRecord) {
        crate::eval::print(record);
    }
}
