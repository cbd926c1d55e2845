//! Progress bars (indicatif) for the library's long work, for programs that run stages and
//! want to see them: [`Bars`] draws training steps, search evaluations and each stage's
//! counted work ([`Observers::progress`]) on standard error, and prints messages there.
//! Behind the `progress` feature; bars are hidden when standard error is not a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use lopper_search::{Observer, Progress};
use lopper_train::{FitObserver, StepRecord, ValidationRecord};

use crate::Observers;

/// Bars and messages, or nothing (`show` false). Messages are prefixed with `prefix`.
#[derive(Debug)]
pub struct Bars {
    /// Whether to draw bars and messages.
    pub show: bool,
    prefix: String,
    /// The bar of [`Observers::progress`] now drawn, with its label.
    work: std::sync::Mutex<Option<(String, ProgressBar)>>,
}

impl Bars {
    /// Bars when `show`, else none; messages start with `prefix` (e.g. the program's name).
    pub fn new(show: bool, prefix: impl Into<String>) -> Self {
        Self {
            show,
            prefix: prefix.into(),
            work: std::sync::Mutex::new(None),
        }
    }
}

impl Observers for Bars {
    fn fit(&self, label: &str) -> Option<Box<dyn FitObserver>> {
        self.show
            .then(|| Box::new(FitProgress::new(label)) as Box<dyn FitObserver>)
    }

    fn search(&self, label: &str) -> Option<Box<dyn Observer>> {
        self.show
            .then(|| Box::new(SearchProgress::new(label)) as Box<dyn Observer>)
    }

    fn message(&self, text: &str) {
        if self.show {
            eprintln!("{}: {text}", self.prefix);
        }
    }

    fn progress(&self, label: &str, done: usize, total: usize) {
        if !self.show {
            return;
        }
        let mut work = self.work.lock().unwrap_or_else(|p| p.into_inner());
        if work.as_ref().is_none_or(|(l, _)| l != label) {
            if let Some((_, old)) = work.take() {
                old.finish();
            }
            let bar = ProgressBar::new(total as u64);
            bar.set_style(style(
                "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len}  ETA {eta}",
            ));
            bar.set_prefix(label.to_string());
            *work = Some((label.to_string(), bar));
        }
        if let Some((_, bar)) = work.as_ref() {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done >= total {
                bar.finish();
            }
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A terminal progress bar: steps against the total, loss, examples/s and ETA. Hidden when
/// standard error is not a terminal.
pub struct FitProgress {
    bar: ProgressBar,
    last_validation: String,
}

impl FitProgress {
    /// A bar titled `label`.
    pub fn new(label: &str) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(style(
            "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} steps  ETA {eta}  {msg}",
        ));
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(500));
        Self {
            bar,
            last_validation: String::new(),
        }
    }
}

impl FitObserver for FitProgress {
    fn on_start(&mut self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        self.bar.reset_eta();
    }

    fn on_step(&mut self, r: &StepRecord, eps: f64) {
        self.bar.set_position(r.step as u64 + 1);
        self.bar.set_message(format!(
            "loss {:.4}  {eps:.1} ex/s{}",
            r.loss, self.last_validation
        ));
    }

    fn on_validation(&mut self, r: &ValidationRecord) {
        let scores: Vec<String> = r
            .scores
            .iter()
            .map(|s| format!("{:?} {:.4}", s.role, s.score).to_lowercase())
            .collect();
        self.last_validation = format!("  | val {} {}", r.metric, scores.join(", "));
        self.bar.println(format!(
            "epoch {}: validation {} {}",
            r.epoch + 1,
            r.metric,
            scores.join(", ")
        ));
    }

    fn on_finish(&mut self) {
        self.bar.finish();
    }
}

/// A terminal progress bar (indicatif): evaluations against the budget, the front's size and
/// its hypervolume. Hidden when standard error is not a terminal.
pub struct SearchProgress {
    bar: ProgressBar,
}

impl SearchProgress {
    /// A progress bar titled `label`.
    pub fn new(label: &str) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(style(
            "{prefix:.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} evals  {msg}",
        ));
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

impl Observer for SearchProgress {
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
