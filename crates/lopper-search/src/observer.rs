//! Observers: what watches a search as it goes (progress bars, custom logging). The trial log
//! itself is kept by the run folder, not by an observer, so it cannot be forgotten.

use crate::TrialRecord;

/// Where a search stands, as observers see it.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Trials told so far (including those replayed from a resumed run).
    pub evaluations: usize,
    /// The evaluation budget, if any.
    pub budget: Option<usize>,
    /// Size of the current Pareto front.
    pub front_size: usize,
    /// Hypervolume of the current front, when the search has a reference point.
    pub hypervolume: Option<f64>,
    /// The trial just told, if any.
    pub last: Option<&'a TrialRecord>,
}

/// Watches a search. Every method has a default that does nothing.
pub trait Observer: Send {
    /// Before the first new ask (after a resumed run's trials are replayed).
    fn on_start(&mut self, _progress: &Progress<'_>) {}
    /// After each tell.
    fn on_trial(&mut self, _progress: &Progress<'_>) {}
    /// When the search ends, whatever the reason.
    fn on_finish(&mut self, _progress: &Progress<'_>) {}
}

impl<T: Observer + ?Sized> Observer for Box<T> {
    fn on_start(&mut self, progress: &Progress<'_>) {
        (**self).on_start(progress);
    }
    fn on_trial(&mut self, progress: &Progress<'_>) {
        (**self).on_trial(progress);
    }
    fn on_finish(&mut self, progress: &Progress<'_>) {
        (**self).on_finish(progress);
    }
}
