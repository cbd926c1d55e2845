//! Observers: what watches a search as it goes (progress bars, custom logging). The trial log
//! itself is kept by the run folder, not by an observer, so it cannot be forgotten.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

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

/// A terminal progress bar (indicatif): evaluations against the budget, the front's size and
/// its hypervolume. Hidden when standard error is not a terminal.
pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    /// A progress bar titled `label`.
    pub fn new(label: &str) -> Self {
        let bar = ProgressBar::new(0);
        let style = ProgressStyle::with_template(
            "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} evals  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Self { bar }
    }

    fn update(&self, p: &Progress<'_>) {
        match p.budget {
            Some(b) => self.bar.set_length(b as u64),
            None => self.bar.set_length(p.evaluations as u64),
        }
        self.bar.set_position(p.evaluations as u64);
        let hv = p
            .hypervolume
            .map(|h| format!("  HV {h:.4}"))
            .unwrap_or_default();
        self.bar.set_message(format!("front {}{hv}", p.front_size));
    }
}

impl Observer for ProgressObserver {
    fn on_start(&mut self, p: &Progress<'_>) {
        self.update(p);
    }

    fn on_trial(&mut self, p: &Progress<'_>) {
        self.update(p);
    }

    fn on_finish(&mut self, p: &Progress<'_>) {
        self.update(p);
        self.bar.finish();
    }
}
