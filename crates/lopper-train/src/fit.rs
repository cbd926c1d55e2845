//! Fine-tuning over epochs: shuffled batches, validation after each epoch with the task's
//! metric, the best and the last checkpoints, a metrics log, and resumption of a killed run.
//!
//! A run folder holds:
//!
//! - `train.json`: the settings (training, data seed, what the caller recorded: task, model,
//!   space…) and the sizes they imply. Running again on the folder with other settings is
//!   refused.
//! - `metrics.jsonl`: one line per optimizer step (`"kind": "step"`: the members trained, their
//!   losses, the learning rate, examples/s) and one per validation (`"kind": "validation"`).
//! - `last/`: the latest checkpoint: the network in the Hugging Face layout (loadable by
//!   [`SuperNet::load`], tokenizer included), and what resuming needs: `weights.bpk` (the
//!   parameters with their ids), `optimizer.bpk` (AdamW's moments), `state.json` (step,
//!   epoch, position in the epoch's data order, the sampling generator, the metrics log's
//!   length, the validation history). Written into `last.new/`, then swapped in by renames, so
//!   a crash leaves either the old or the new checkpoint whole.
//! - `best/`: the network in the Hugging Face layout at the epoch whose largest sub-network
//!   scored best on validation.
//!
//! Resuming reloads `last/`, truncates the log to what that checkpoint had seen and replays the
//! same data order and sub-network draws, so the weights reached are those of an uninterrupted
//! run (bit for bit on the same backend and thread count).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use burn::store::{BurnpackStore, ModuleSnapshot};
use lopper_core::SearchSpace;
use lopper_data::{EncodedDataset, Task};
use lopper_model::SuperNet;
use serde::{Deserialize, Serialize};

use crate::score::model_batch;
use crate::{Result, Role, Scorer, StepRecord, TrainConfig, TrainError, Trainer, TrainerState};

/// Settings of a fine-tuning run beyond the optimizer's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FitConfig {
    /// Optimizer, schedule and strategy settings.
    pub train: TrainConfig,
    /// Seed of the data order (each epoch's order is drawn from it and the epoch).
    pub data_seed: u64,
    /// Examples per batch when validating.
    pub eval_batch_size: usize,
    /// Write a checkpoint every this many steps (and always at the end of an epoch); 0: only
    /// at the end of epochs.
    pub checkpoint_every: usize,
    /// Stop after this many optimizer steps in all (the schedule decays to 0 there).
    pub max_steps: Option<usize>,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            train: TrainConfig::default(),
            data_seed: 0,
            eval_batch_size: 32,
            checkpoint_every: 200,
            max_steps: None,
        }
    }
}

/// What `train.json` records: the run's settings, what the caller records beside them (`M`:
/// `()` for nothing; the pipeline records the task, data, model and space it trained on) and
/// the sizes they imply. Read back with unknown fields refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSettings<M = ()> {
    /// The run's settings.
    pub fit: FitConfig,
    /// What the caller recorded (see [`Fit::meta`]).
    pub meta: M,
    /// Training examples.
    pub train_examples: usize,
    /// Validation examples (0: no validation).
    pub validation_examples: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Optimizer steps in all.
    pub total_steps: usize,
}

/// The score of one sub-network at one validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetScore {
    /// Which member of the space.
    pub role: Role,
    /// The sub-network (its display).
    pub summary: String,
    /// The task's metric.
    pub score: f64,
    /// Every metric computed, by name.
    pub values: Vec<(String, f64)>,
}

/// One validation after an epoch (a line of the metrics log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRecord {
    /// 0-based epoch just finished.
    pub epoch: usize,
    /// Optimizer steps taken.
    pub step: usize,
    /// The metric's name.
    pub metric: String,
    /// The space's largest (and, when the strategy trains sub-networks, smallest) member.
    pub scores: Vec<SubnetScore>,
    /// Seconds the validation took.
    pub seconds: f64,
}

impl ValidationRecord {
    /// The largest sub-network's score: what picks the best checkpoint.
    pub fn largest(&self) -> Option<f64> {
        self.scores
            .iter()
            .find(|s| s.role == Role::Largest)
            .map(|s| s.score)
    }
}

/// What a checkpoint's `state.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FitState {
    trainer: TrainerState,
    epoch: usize,
    position: usize,
    metrics_len: u64,
    seconds: f64,
    examples: u64,
    best: Option<(usize, f64)>,
    history: Vec<ValidationRecord>,
}

impl<T: FitObserver + ?Sized> FitObserver for Box<T> {
    fn on_start(&mut self, done: usize, total: usize) {
        (**self).on_start(done, total);
    }
    fn on_step(&mut self, record: &StepRecord, examples_per_second: f64) {
        (**self).on_step(record, examples_per_second);
    }
    fn on_validation(&mut self, record: &ValidationRecord) {
        (**self).on_validation(record);
    }
    fn on_finish(&mut self) {
        (**self).on_finish();
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct FitReport {
    /// The trained network (on the training device).
    pub net: SuperNet,
    /// Whether it continued a checkpoint.
    pub resumed: bool,
    /// Whether every planned step was taken (false when stopped by
    /// [`Fit::stop_after`]).
    pub finished: bool,
    /// Optimizer steps taken in all.
    pub steps: usize,
    /// Validations, in order.
    pub history: Vec<ValidationRecord>,
    /// Epoch and score of the best checkpoint.
    pub best: Option<(usize, f64)>,
    /// Training seconds over all sessions (validation and checkpoints excluded).
    pub train_seconds: f64,
    /// Training examples per second over all sessions.
    pub examples_per_second: f64,
}

/// Watches a run. Every method has a default that does nothing.
pub trait FitObserver {
    /// Before the first step of this session.
    fn on_start(&mut self, _done: usize, _total: usize) {}
    /// After each optimizer step.
    fn on_step(&mut self, _record: &StepRecord, _examples_per_second: f64) {}
    /// After each validation.
    fn on_validation(&mut self, _record: &ValidationRecord) {}
    /// When the run ends.
    fn on_finish(&mut self) {}
}

/// A fine-tuning run into a folder (see the module's documentation for its layout). `M` is
/// what the caller records in `train.json` beside the settings ([`Fit::meta`]).
pub struct Fit<'a, M = ()> {
    space: &'a dyn SearchSpace,
    task: &'a Task,
    train: &'a EncodedDataset,
    validation: Option<&'a EncodedDataset>,
    config: FitConfig,
    meta: M,
    out: PathBuf,
    tokenizer_from: Option<PathBuf>,
    observer: Option<Box<dyn FitObserver + 'a>>,
    stop_after: Option<usize>,
}

impl<'a> Fit<'a, ()> {
    /// A run training sub-networks of `space` on `train` for `task`, into folder `out`.
    pub fn new(
        space: &'a dyn SearchSpace,
        task: &'a Task,
        train: &'a EncodedDataset,
        config: FitConfig,
        out: &Path,
    ) -> Self {
        Self {
            space,
            task,
            train,
            validation: None,
            config,
            meta: (),
            out: out.to_path_buf(),
            tokenizer_from: None,
            observer: None,
            stop_after: None,
        }
    }
}

impl<'a, M> Fit<'a, M>
where
    M: Serialize + DeserializeOwned + PartialEq + Clone,
{
    /// Validates after each epoch on `data`.
    pub fn validation(mut self, data: &'a EncodedDataset) -> Self {
        self.validation = Some(data);
        self
    }

    /// Records `meta` in `train.json` (and refuses to resume a folder recorded otherwise).
    pub fn meta<N>(self, meta: N) -> Fit<'a, N> {
        Fit {
            space: self.space,
            task: self.task,
            train: self.train,
            validation: self.validation,
            config: self.config,
            meta,
            out: self.out,
            tokenizer_from: self.tokenizer_from,
            observer: self.observer,
            stop_after: self.stop_after,
        }
    }

    /// Copies the tokenizer files of folder `dir` into every checkpoint.
    pub fn tokenizer_from(mut self, dir: &Path) -> Self {
        self.tokenizer_from = Some(dir.to_path_buf());
        self
    }

    /// Reports progress to `observer`.
    pub fn observer(mut self, observer: impl FitObserver + 'a) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Stops after `steps` steps in all without a checkpoint, as a killed process would.
    pub fn stop_after(mut self, steps: usize) -> Self {
        self.stop_after = Some(steps);
        self
    }

    fn settings(&self) -> Result<FitSettings<M>> {
        let c = &self.config;
        if c.train.batch_size == 0 || c.eval_batch_size == 0 {
            return Err(TrainError::Settings(
                "batch sizes must be at least 1".into(),
            ));
        }
        if c.train.epochs == 0 || c.max_steps == Some(0) {
            return Err(TrainError::Settings(
                "at least one epoch and one step are needed".into(),
            ));
        }
        if self.train.is_empty() {
            return Err(TrainError::Settings(format!(
                "the {} training split is empty",
                self.task.name
            )));
        }
        let steps_per_epoch = self.train.len().div_ceil(c.train.batch_size);
        let planned = steps_per_epoch * c.train.epochs;
        Ok(FitSettings {
            fit: c.clone(),
            meta: self.meta.clone(),
            train_examples: self.train.len(),
            validation_examples: self.validation.map_or(0, EncodedDataset::len),
            steps_per_epoch,
            total_steps: c.max_steps.map_or(planned, |m| m.min(planned)),
        })
    }

    /// Trains `net` (on an autodiff device, loaded with the task's head), resuming the folder's
    /// last checkpoint if there is one.
    pub fn run(mut self, mut net: SuperNet) -> Result<FitReport> {
        let settings = self.settings()?;
        fs::create_dir_all(&self.out).map_err(|e| TrainError::io(&self.out, e))?;
        let settings_path = self.out.join("train.json");
        if settings_path.exists() {
            let text = fs::read_to_string(&settings_path)
                .map_err(|e| TrainError::io(&settings_path, e))?;
            let old: FitSettings<M> =
                serde_json::from_str(&text).map_err(|e| TrainError::json(&settings_path, e))?;
            if old != settings {
                return Err(TrainError::OtherRun {
                    dir: self.out.clone(),
                });
            }
        } else {
            let text = to_json(&settings_path, &settings)?;
            lopper_core::fs::write_atomic(&settings_path, text.as_bytes())
                .map_err(|e| TrainError::io(&settings_path, e))?;
        }
        recover(&self.out)?;

        let total = settings.total_steps;
        let mut trainer = Trainer::new(self.config.train.clone(), total)?;
        let last = self.out.join("last");
        let metrics_path = self.out.join("metrics.jsonl");
        let (mut state, resumed) = if last.join("state.json").exists() {
            let state = load_checkpoint(&last, &mut net, &mut trainer)?;
            (state, true)
        } else {
            let state = FitState {
                trainer: trainer.state(),
                epoch: 0,
                position: 0,
                metrics_len: 0,
                seconds: 0.0,
                examples: 0,
                best: None,
                history: Vec::new(),
            };
            (state, false)
        };
        // The log keeps what the checkpoint had seen; later lines are replayed.
        let mut metrics = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| TrainError::io(&metrics_path, e))?;
        metrics
            .set_len(state.metrics_len)
            .map_err(|e| TrainError::io(&metrics_path, e))?;

        let scorer = match self.validation {
            Some(v) => Some(Scorer::new(
                self.task,
                v,
                net.config(),
                &net.device().clone().inner(),
                self.config.eval_batch_size,
            )?),
            None => None,
        };
        let validated: Vec<(Role, lopper_core::Subnet)> = {
            let mut v = vec![(Role::Largest, self.space.decode(&self.space.largest())?)];
            if self.config.train.strategy.trains_subnetworks() {
                v.push((Role::Smallest, self.space.decode(&self.space.smallest())?));
            }
            v
        };

        if let Some(o) = self.observer.as_mut() {
            o.on_start(state.trainer.step, total);
        }
        let mut session_train = Duration::ZERO;
        let mut session_examples = 0u64;
        let bs = self.config.train.batch_size;
        let mut finished = true;
        'epochs: while trainer.step_count() < total {
            let epoch = state.epoch;
            let batches = self
                .train
                .shuffled_batches(bs, self.config.data_seed, epoch as u64)?
                .skip(state.position);
            for b in batches {
                if trainer.step_count() >= total {
                    break;
                }
                if self.stop_after.is_some_and(|s| trainer.step_count() >= s) {
                    finished = false;
                    break 'epochs;
                }
                let t0 = Instant::now();
                let (batch, targets) = model_batch(&b, net.config(), &net.device().clone())?;
                let targets = targets.ok_or_else(|| TrainError::Unlabelled {
                    task: self.task.name.clone(),
                    split: "training",
                })?;
                let record =
                    trainer.train_step(&mut net, self.space, &batch, &targets, b.num_choices)?;
                let dt = t0.elapsed();
                session_train += dt;
                session_examples += b.len() as u64;
                state.seconds += dt.as_secs_f64();
                state.examples += b.len() as u64;
                state.position += 1;
                let eps = session_examples as f64 / session_train.as_secs_f64().max(1e-9);
                let line = StepLine::new(&record, epoch, eps, dt.as_secs_f64());
                write_line(&mut metrics, &metrics_path, &MetricsLine::Step(line))?;
                if let Some(o) = self.observer.as_mut() {
                    o.on_step(&record, eps);
                }
                let step = trainer.step_count();
                let epoch_done = state.position >= settings.steps_per_epoch || step >= total;
                if !epoch_done
                    && self.config.checkpoint_every > 0
                    && step % self.config.checkpoint_every == 0
                {
                    state.trainer = trainer.state();
                    self.checkpoint(&net, &trainer, &mut state, &mut metrics)?;
                }
            }
            // The epoch is over (or the step budget spent): validate, keep the best, checkpoint.
            if let Some(scorer) = &scorer {
                let v = validate(scorer, &net, &validated, state.epoch, trainer.step_count())?;
                let line = MetricsLine::Validation(v.clone());
                write_line(&mut metrics, &metrics_path, &line)?;
                if let Some(o) = self.observer.as_mut() {
                    o.on_validation(&v);
                }
                if let Some(score) = v.largest()
                    && state.best.is_none_or(|(_, b)| score > b || b.is_nan())
                {
                    state.best = Some((state.epoch, score));
                    self.write_model(&net, &self.out.join("best"))?;
                }
                state.history.push(v);
            }
            state.epoch += 1;
            state.position = 0;
            state.trainer = trainer.state();
            self.checkpoint(&net, &trainer, &mut state, &mut metrics)?;
        }
        if let Some(o) = self.observer.as_mut() {
            o.on_finish();
        }
        Ok(FitReport {
            resumed,
            finished,
            steps: trainer.step_count(),
            history: state.history.clone(),
            best: state.best,
            train_seconds: state.seconds,
            examples_per_second: state.examples as f64 / state.seconds.max(1e-9),
            net,
        })
    }

    /// Writes the network in the Hugging Face layout (with the tokenizer) into `dir`, replacing
    /// it whole.
    fn write_model(&self, net: &SuperNet, dir: &Path) -> Result<()> {
        let tmp = with_suffix(dir, ".new");
        remove_dir(&tmp)?;
        lopper_model::save(&net.valid(), &tmp, self.tokenizer_from.as_deref())?;
        swap_in(&tmp, dir)
    }

    fn checkpoint(
        &self,
        net: &SuperNet,
        trainer: &Trainer,
        state: &mut FitState,
        metrics: &mut File,
    ) -> Result<()> {
        let metrics_path = self.out.join("metrics.jsonl");
        metrics
            .sync_data()
            .map_err(|e| TrainError::io(&metrics_path, e))?;
        state.metrics_len = metrics
            .metadata()
            .map_err(|e| TrainError::io(&metrics_path, e))?
            .len();
        let last = self.out.join("last");
        let tmp = with_suffix(&last, ".new");
        remove_dir(&tmp)?;
        lopper_model::save(&net.valid(), &tmp, self.tokenizer_from.as_deref())?;
        let weights = tmp.join("weights.bpk");
        let mut store = BurnpackStore::from_file(&weights).overwrite(true);
        net.weights()
            .save_into(&mut store)
            .map_err(|e| TrainError::checkpoint(&weights, format!("{e:?}")))?;
        trainer.save_optimizer(&tmp.join("optimizer.bpk"))?;
        let state_path = tmp.join("state.json");
        fs::write(&state_path, to_json(&state_path, state)?)
            .map_err(|e| TrainError::io(&state_path, e))?;
        sync_dir_files(&tmp)?;
        swap_in(&tmp, &last)
    }
}

/// A line of `metrics.jsonl`: a step or a validation, told apart by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricsLine {
    /// An optimizer step.
    Step(StepLine),
    /// A validation after an epoch.
    Validation(ValidationRecord),
}

/// A step's line of the metrics log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepLine {
    /// 0-based epoch.
    pub epoch: usize,
    /// 0-based optimizer step.
    pub step: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean loss over the members.
    pub loss: f64,
    /// Training examples per second in this session so far.
    pub examples_per_second: f64,
    /// Seconds the step took.
    pub step_seconds: f64,
    /// The members trained.
    pub members: Vec<MemberLine>,
}

/// A member of a step, written compactly: per layer the kept heads and units as ranges
/// (`"0-5,8"`), `null` for a dropped layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberLine {
    /// Why it was trained.
    pub role: Role,
    /// How.
    pub loss_kind: crate::LossKind,
    /// Its loss.
    pub loss: f64,
    /// Its display.
    pub summary: String,
    /// Heads kept.
    pub heads: usize,
    /// Units kept.
    pub units: usize,
    /// Per layer, `[heads, units]` as ranges, or `null`.
    pub kept: Vec<Option<(String, String)>>,
}

impl StepLine {
    fn new(r: &StepRecord, epoch: usize, eps: f64, seconds: f64) -> Self {
        let members = r
            .members
            .iter()
            .map(|m| MemberLine {
                role: m.role,
                loss_kind: m.loss_kind,
                loss: m.loss,
                summary: m.summary.clone(),
                heads: m.heads,
                units: m.units,
                kept: m
                    .subnet
                    .layers()
                    .iter()
                    .map(|l| l.as_ref().map(|k| (ranges(&k.heads), ranges(&k.units))))
                    .collect(),
            })
            .collect();
        Self {
            epoch,
            step: r.step,
            lr: r.lr,
            loss: r.loss,
            examples_per_second: eps,
            step_seconds: seconds,
            members,
        }
    }
}

/// Reads a metrics log. Blank lines are skipped; an unparsable last line (a write cut short
/// by a crash) is ignored, an unparsable line elsewhere is an error naming it.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsLine>> {
    let text = fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (k, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(v) => out.push(v),
            Err(_) if k + 1 == lines.len() => break,
            Err(e) => return Err(TrainError::json(path, e)),
        }
    }
    Ok(out)
}

fn write_line(metrics: &mut File, path: &Path, line: &MetricsLine) -> Result<()> {
    let text = serde_json::to_string(line).map_err(|e| TrainError::json(path, e))?;
    writeln!(metrics, "{text}").map_err(|e| TrainError::io(path, e))
}

/// Ascending indices as ranges: `[0, 1, 2, 5, 7, 8]` → `"0-2,5,7-8"`.
pub(crate) fn ranges(indices: &[usize]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

fn validate(
    scorer: &Scorer,
    net: &SuperNet,
    subnets: &[(Role, lopper_core::Subnet)],
    epoch: usize,
    step: usize,
) -> Result<ValidationRecord> {
    let t0 = Instant::now();
    let eval_net = net.valid();
    let mut scores = Vec::new();
    let mut metric = String::new();
    for (role, subnet) in subnets {
        let e = scorer.score(&eval_net, subnet)?;
        metric = e.metric.name().to_string();
        scores.push(SubnetScore {
            role: *role,
            summary: subnet.to_string(),
            score: e.score,
            values: e.named_values(),
        });
    }
    Ok(ValidationRecord {
        epoch,
        step,
        metric,
        scores,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn load_checkpoint(dir: &Path, net: &mut SuperNet, trainer: &mut Trainer) -> Result<FitState> {
    let state_path = dir.join("state.json");
    let text = fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
    let state: FitState =
        serde_json::from_str(&text).map_err(|e| TrainError::json(&state_path, e))?;
    let weights = dir.join("weights.bpk");
    let mut store = BurnpackStore::from_file(&weights);
    let mut w = net.weights().clone();
    let applied = w
        .load_from(&mut store)
        .map_err(|e| TrainError::checkpoint(&weights, format!("{e:?}")))?;
    if !applied.errors.is_empty() || !applied.missing.is_empty() {
        return Err(TrainError::checkpoint(
            &weights,
            format!(
                "does not fit the network: {} missing tensors, errors {:?}",
                applied.missing.len(),
                applied.errors
            ),
        ));
    }
    net.set_weights(w);
    trainer.load_optimizer(&dir.join("optimizer.bpk"))?;
    trainer.restore(state.trainer.clone());
    Ok(state)
}

fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| TrainError::json(path, e))
}

fn with_suffix(dir: &Path, suffix: &str) -> PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    }
    Ok(())
}

/// Replaces `dir` by the complete folder `tmp`: `dir` → `dir.old`, `tmp` → `dir`, then the old
/// one is removed. A crash in between leaves `dir.old`, which [`recover`] puts back.
fn swap_in(tmp: &Path, dir: &Path) -> Result<()> {
    let old = with_suffix(dir, ".old");
    remove_dir(&old)?;
    if dir.exists() {
        fs::rename(dir, &old).map_err(|e| TrainError::io(dir, e))?;
    }
    fs::rename(tmp, dir).map_err(|e| TrainError::io(dir, e))?;
    remove_dir(&old)
}

/// Undoes a swap that a crash interrupted, and drops half-written folders.
fn recover(out: &Path) -> Result<()> {
    for name in ["last", "best"] {
        let dir = out.join(name);
        let old = with_suffix(&dir, ".old");
        if !dir.exists() && old.exists() {
            fs::rename(&old, &dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        remove_dir(&with_suffix(&dir, ".new"))?;
        remove_dir(&old)?;
    }
    Ok(())
}

fn sync_dir_files(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| TrainError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| TrainError::io(dir, e))?.path();
        if path.is_file() {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| TrainError::io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn indices_print_as_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(ranges(&[3]), "3");
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&(0..1536).collect::<Vec<_>>()), "0-1535");
    }
}
