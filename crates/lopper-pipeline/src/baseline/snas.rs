//! S-NAS, standard neural architecture search (the paper's second method): every candidate
//! sub-network of the space is cut out of the pre-trained model and fine-tuned on its own, for
//! up to the training settings' epochs, its validation error reported after each epoch to the
//! `mo-asha` scheduler, which stops the unpromising ones; any optimizer plugin asks the
//! candidates. A trial's result is its best epoch.

use std::path::{Path, PathBuf};

use lopper_core::{Objective, SearchSpace, Subnet, Trial};
use lopper_model::{EncoderConfig, paper_params, resolve_model};
use lopper_search::{EvalContext, Evaluator, Measurement, Search, SearchConfig, SearchError};
use lopper_space::SpaceConfig;
use serde::{Deserialize, Serialize};

use super::{
    BaselineRecord, BaselineSettings, PruningInput, PruningMethod, claim_folder, member_of_run,
    write_baseline_front,
};
use crate::records::{FrontFile, FullNetwork};
use crate::{Observers, PipelineError, Result, SearchDir, TrainDir, TrainSpec};

fn d_optimizer() -> String {
    "random".into()
}
fn d_budget() -> usize {
    20
}
fn d_grace() -> u32 {
    1
}
fn d_reduction() -> u32 {
    3
}
fn d_true() -> bool {
    true
}

/// How to run standard NAS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct SnasSpec {
    /// The optimizer plugin that asks the candidates.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_optimizer()))]
    #[serde(default = "d_optimizer")]
    pub optimizer: String,
    /// Trials at most.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_budget()))]
    #[serde(default = "d_budget")]
    pub budget: usize,
    /// Stop asking after this many seconds of wall-clock time (summed over resumed
    /// sessions).
    #[cfg_attr(feature = "clap", arg(long, value_name = "SECONDS"))]
    #[serde(default)]
    pub max_seconds: Option<f64>,
    /// MO-ASHA's lowest rung, in epochs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_grace()))]
    #[serde(default = "d_grace")]
    pub grace_period: u32,
    /// MO-ASHA's reduction factor.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_reduction()))]
    #[serde(default = "d_reduction")]
    pub reduction_factor: u32,
    /// Skip the initial design (the space's largest, smallest and middle candidates evaluated
    /// first, as the paper does).
    #[cfg_attr(feature = "clap", arg(long = "no-initial-design", action = clap::ArgAction::SetFalse))]
    #[serde(default = "d_true")]
    pub initial_design: bool,
    /// Seed of the optimizer and the scheduler.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub search_seed: u64,
}

impl Default for SnasSpec {
    fn default() -> Self {
        Self {
            optimizer: d_optimizer(),
            budget: d_budget(),
            max_seconds: None,
            grace_period: d_grace(),
            reduction_factor: d_reduction(),
            initial_design: true,
            search_seed: 0,
        }
    }
}

/// Fine-tunes each trial's sub-network in its own run folder, one epoch per report.
struct SnasEvaluator<'a> {
    space: &'a dyn SearchSpace,
    train: &'a TrainSpec,
    config: &'a EncoderConfig,
    full_params: f64,
    trials: PathBuf,
    observers: &'a dyn Observers,
}

impl SnasEvaluator<'_> {
    fn run_dir(trials: &Path, id: u64) -> TrainDir {
        TrainDir::new(trials.join(format!("{id:05}")))
    }
}

impl Evaluator for SnasEvaluator<'_> {
    fn objectives(&self) -> Vec<Objective> {
        vec![
            Objective::minimize("error", "fraction"),
            Objective::minimize("params", "fraction"),
        ]
    }

    fn evaluate(
        &self,
        trial: &Trial,
        ctx: &mut EvalContext<'_>,
    ) -> lopper_search::Result<Measurement> {
        let failed = |message: String| SearchError::Evaluation {
            trial: trial.id,
            message,
        };
        let subnet = self
            .space
            .decode(&trial.point)
            .map_err(|e| failed(e.to_string()))?;
        let params = paper_params(self.config, &subnet) as f64 / self.full_params;
        let run = Self::run_dir(&self.trials, trial.id);
        let max = ctx.max_fidelity(self.train.epochs as u32);
        self.observers.message(&format!(
            "S-NAS trial {}: fine-tuning {subnet} for up to {max} epochs → {}",
            trial.id,
            run.path().display()
        ));
        let mut errors: Vec<f64> = Vec::new();
        for epoch in 1..=max {
            let outcome = crate::train_subnet(
                self.train,
                &subnet,
                &run,
                Some(epoch as usize),
                self.observers,
            )
            .map_err(|e| failed(e.to_string()))?;
            errors = outcome
                .summary
                .history
                .iter()
                .map(|v| match v.largest() {
                    Some(s) if !s.is_nan() => 1.0 - s,
                    _ => 1.0,
                })
                .collect();
            let last = errors.last().copied().unwrap_or(1.0);
            if ctx.report(epoch, &[last, params])? == lopper_core::Decision::Stop {
                break;
            }
        }
        let (best_epoch, best) =
            errors
                .iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |acc, (i, &e)| if e < acc.1 { (i, e) } else { acc },
                );
        let info = serde_json::json!({
            "subnet": subnet.to_string(),
            "epochs": errors.len(),
            "validation_errors": errors,
            "best_epoch": best_epoch + 1,
            "run": run.path(),
        });
        Ok(Measurement::new(vec![best, params]).with_info(info))
    }
}

/// Standard NAS over the space of `train` (its `space`, of the pre-trained `model`), into
/// `dir`: the search's trial log and checkpoint in `dir`, every trial's fine-tuning in
/// `dir/trials/<id>` (resumable epoch by epoch, so a killed search loses no finished epoch);
/// each trial fine-tunes its sub-network with `train`'s settings (`standard`) for up to
/// `train.epochs` epochs, reporting the validation error after each to MO-ASHA (one bracket);
/// the front's members name their trial's best checkpoint. The unpruned network beside the
/// front is `fine_tuned`'s best when given, else the space's largest trial's.
pub fn standard_nas(
    spec: &SnasSpec,
    train: &TrainSpec,
    fine_tuned: Option<&TrainDir>,
    dir: &SearchDir,
    observers: &dyn Observers,
) -> Result<FrontFile> {
    if spec.budget == 0 {
        return Err(PipelineError::setting("budget", "at least 1 trial"));
    }
    let model_dir = resolve_model(&train.model, None)?;
    let config = EncoderConfig::from_file(&model_dir.join("config.json"))?;
    let arch = config.arch();
    let space = SpaceConfig {
        kind: train.space,
        sampler: train.sampler,
    }
    .build(arch)?;
    let mut spec_train = train.clone();
    spec_train.strategy = lopper_train::StrategyKind::Standard;
    let record = BaselineRecord {
        train_run: fine_tuned
            .map(|r| crate::data::absolute(r.path()))
            .transpose()?,
        settings: BaselineSettings::Snas {
            spec: spec.clone(),
            train: Box::new(spec_train.clone()),
        },
    };
    claim_folder(dir, &record)?;
    let full_subnet = Subnet::full(&arch);
    let trials = dir.path().join("trials");
    let evaluator = SnasEvaluator {
        space: space.as_ref(),
        train: &spec_train,
        config: &config,
        full_params: paper_params(&config, &full_subnet).max(1) as f64,
        trials: trials.clone(),
        observers,
    };
    let mut search_config = SearchConfig::new(spec.optimizer.clone());
    search_config.scheduler = Some("mo-asha".into());
    search_config.scheduler_config = serde_json::json!({
        "max_fidelity": spec_train.epochs,
        "grace_period": spec.grace_period,
        "reduction_factor": spec.reduction_factor,
    });
    search_config.seed = spec.search_seed;
    search_config.max_evaluations = Some(spec.budget);
    search_config.max_seconds = spec.max_seconds;
    search_config.initial_design = spec.initial_design;
    search_config.reference_point = Some(vec![1.0, 1.0]);
    let mut search = Search::new(space.as_ref(), &evaluator, search_config).run_dir(dir.path());
    if let Some(o) = observers.search("S-NAS") {
        search = search.observer(o);
    }
    let result = search.run()?;

    // The front: each non-dominated trial's best checkpoint, scored as the search scores.
    let mut members = Vec::new();
    for &i in &result.front {
        let r = &result.records[i];
        let subnet = space.decode(&r.point)?;
        let mut extra = serde_json::Map::new();
        if let serde_json::Value::Object(m) = &r.info {
            extra.extend(m.clone());
        }
        let run = SnasEvaluator::run_dir(&trials, r.id);
        let batch = spec_train.eval_batch_size;
        let (mut m, _) = member_of_run(&run, r.id, subnet, extra, true, batch)?;
        m.point = Some(r.point.clone());
        members.push(m);
    }
    let full_run = match fine_tuned {
        Some(run) => run.clone(),
        None => result
            .records
            .iter()
            .find(|r| space.decode(&r.point).is_ok_and(|s| s == full_subnet))
            .map(|r| SnasEvaluator::run_dir(&trials, r.id))
            .ok_or_else(|| {
                PipelineError::setting(
                    "initial_design",
                    "S-NAS needs the unpruned network: keep the initial design or give a fine-tuned run",
                )
            })?,
    };
    let (full, objectives) = member_of_run(
        &full_run,
        0,
        full_subnet,
        serde_json::Map::new(),
        false,
        spec_train.eval_batch_size,
    )?;
    let full = FullNetwork::from(full);
    write_baseline_front(dir, objectives, members, full, &record)
}

impl PruningMethod for SnasSpec {
    fn name(&self) -> &'static str {
        "snas"
    }

    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile> {
        standard_nas(
            self,
            input.train("snas")?,
            input.fine_tuned.as_ref(),
            dir,
            observers,
        )
    }
}

register_method!(
    SnasSpec,
    "snas",
    "standard NAS: every candidate fine-tuned on its own, epochs scheduled by MO-ASHA"
);
