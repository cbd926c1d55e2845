//! The scales a study runs at: `smoke` (every method end to end in minutes, a CI test),
//! `reduced` (the documented study, at most about 20 minutes a unit on a 2-core machine) and
//! `paper` (Klein et al.'s settings, for bigger machines).

use std::fmt;

use lopper::data::TaskSource;
use serde::{Deserialize, Serialize};

/// How big a study is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// A tiny budget on the movie reviews: every method end to end in a few minutes.
    Smoke,
    /// The documented study: subsampled training sets, fewer epochs and evaluations.
    Reduced,
    /// The paper's settings: the whole training sets, 5 epochs, 10 seeds.
    Paper,
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scale::Smoke => "smoke",
            Scale::Reduced => "reduced",
            Scale::Paper => "paper",
        })
    }
}

/// What a scale sets: the tasks and seeds a study covers and every budget of its units.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The tasks, in the order their units run.
    pub tasks: Vec<TaskSource>,
    /// The seeds (of the 70/30 split, the data order, the new task head and the search).
    pub seeds: Vec<u64>,
    /// Training examples kept of the 70 % (the first N after the seeded split).
    pub train_limit: Option<usize>,
    /// Validation examples kept of the 30 %.
    pub validation_limit: Option<usize>,
    /// Test (official dev) examples kept.
    pub test_limit: Option<usize>,
    /// Fine-tuning epochs (the paper: 5), for every method that fine-tunes.
    pub epochs: usize,
    /// Examples per step (the paper: 4).
    pub batch_size: usize,
    /// Peak learning rate (the paper: 2e-5).
    pub lr: f64,
    /// Tokens per input.
    pub max_len: usize,
    /// WS-NAS: evaluations of the search (the paper: 100).
    pub search_budget: usize,
    /// S-NAS: trials.
    pub snas_budget: usize,
    /// S-NAS: its wall-clock budget in seconds.
    pub snas_seconds: Option<f64>,
    /// RFP and HP: training examples their gradients (and RFP's tuning) use (Kwon et al.:
    /// 2,048).
    pub sample: usize,
    /// HP: the share of the remaining heads removed per step (Michel et al.: 10 %).
    pub hp_fraction: f64,
    /// LD: how many top layers each member drops (empty: 1 … L−1, as Sajjad et al.).
    pub ld_drops: Vec<usize>,
    /// The retained fractions of the encoder's parameters the tables select at.
    pub fractions: Vec<f64>,
}

fn tasks(names: &[&str]) -> Vec<TaskSource> {
    // The names are this file's own and all known to lopper-data.
    names.iter().filter_map(|n| n.parse().ok()).collect()
}

impl Scale {
    /// Its settings.
    pub fn settings(self) -> Settings {
        let fractions = vec![0.9, 0.8, 0.7, 0.6, 0.5];
        // The smoke scale runs each method's every step, on less: three budgets, three
        // drops, half the heads per HP step.
        match self {
            Scale::Smoke => Settings {
                tasks: tasks(&["movie-reviews"]),
                seeds: vec![0],
                train_limit: Some(16),
                validation_limit: Some(24),
                test_limit: Some(40),
                epochs: 1,
                batch_size: 8,
                lr: 1e-4,
                max_len: 32,
                search_budget: 6,
                snas_budget: 3,
                snas_seconds: None,
                sample: 16,
                hp_fraction: 0.5,
                ld_drops: vec![1, 3, 5],
                fractions: vec![0.9, 0.7, 0.5],
            },
            Scale::Reduced => Settings {
                tasks: tasks(&["mrpc", "rte", "stsb", "sst2", "movie-reviews"]),
                seeds: vec![0, 1],
                train_limit: Some(1000),
                validation_limit: Some(300),
                test_limit: None,
                epochs: 2,
                batch_size: 4,
                lr: 2e-5,
                max_len: 128,
                search_budget: 50,
                snas_budget: 40,
                snas_seconds: Some(1200.0),
                sample: 512,
                hp_fraction: 0.1,
                ld_drops: Vec::new(),
                fractions,
            },
            Scale::Paper => Settings {
                tasks: tasks(&["rte", "mrpc", "stsb", "sst2", "movie-reviews"]),
                seeds: (0..10).collect(),
                train_limit: None,
                validation_limit: None,
                test_limit: None,
                epochs: 5,
                batch_size: 4,
                lr: 2e-5,
                max_len: 128,
                search_budget: 100,
                snas_budget: 100,
                snas_seconds: None,
                sample: 2048,
                hp_fraction: 0.1,
                ld_drops: Vec::new(),
                fractions,
            },
        }
    }
}

impl Settings {
    /// One line naming every budget, recorded with each result row.
    pub fn describe(&self) -> String {
        let limit = |l: Option<usize>| l.map_or_else(|| "all".to_string(), |n| n.to_string());
        let snas_seconds = self
            .snas_seconds
            .map_or_else(|| "none".to_string(), |s| format!("{s}s"));
        format!(
            "train={};validation={};test={};epochs={};batch={};lr={};max_len={};search={};snas={}/{};sample={};hp={};ld={}",
            limit(self.train_limit),
            limit(self.validation_limit),
            limit(self.test_limit),
            self.epochs,
            self.batch_size,
            self.lr,
            self.max_len,
            self.search_budget,
            self.snas_budget,
            snas_seconds,
            self.sample,
            self.hp_fraction,
            if self.ld_drops.is_empty() {
                "all".to_string()
            } else {
                self.ld_drops
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/")
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scale_names_known_tasks_and_sane_budgets() {
        for scale in [Scale::Smoke, Scale::Reduced, Scale::Paper] {
            let s = scale.settings();
            assert!(!s.tasks.is_empty() && !s.seeds.is_empty(), "{scale}");
            assert_eq!(
                s.tasks.len(),
                match scale {
                    Scale::Smoke => 1,
                    _ => 5,
                },
                "{scale}: a task name did not parse"
            );
            assert!(s.epochs > 0 && s.batch_size > 0 && s.search_budget > 0);
            assert!(s.fractions.iter().all(|f| *f > 0.0 && *f <= 1.0));
        }
        assert!(Scale::Reduced.settings().describe().contains("epochs=2"));
    }
}
