//! Stage two: search a trained super-network for the Pareto set of its sub-networks.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use lopper_core::{Objective, Subnet};
use lopper_data::{EncodedDataset, TextTokenizer};
use lopper_model::SuperNet;
use lopper_prune::{ObjectiveContext, ObjectiveSpec, SubnetEvaluator, SubnetObjective};
use lopper_search::{
    Search, SearchConfig, StoreUrl, StudySettings, TrialRecord, Worker, WorkerEvent, WorkerSummary,
};
use lopper_train::Scorer;
use serde::{Deserialize, Serialize};

use crate::data::read_splits;
use crate::records::{FrontFile, FrontMember, FullNetwork, Record, TrainRecord};
use crate::{Checkpoint, Observers, PipelineError, Result, SearchDir, TrainDir};

fn d_optimizer() -> String {
    "local-search".into()
}
fn d_objectives() -> Vec<ObjectiveSpec> {
    vec![
        ObjectiveSpec::named("error"),
        ObjectiveSpec::named("params"),
    ]
}
fn d_budget() -> usize {
    100
}
fn one() -> usize {
    1
}
pub(crate) fn d_eval_batch_size() -> usize {
    64
}

/// How to search a trained super-network; in a pipeline file, the `[search]` table, on the
/// command line the flags of `lopper search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct SearchSpec {
    /// Which checkpoint of the training run: best or last.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = Checkpoint::Best))]
    #[serde(default)]
    pub checkpoint: Checkpoint,
    /// Optimizer plugin (see `lopper optimizers`).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_optimizer()))]
    #[serde(default = "d_optimizer")]
    pub optimizer: String,
    /// The plugin's own settings (JSON on the command line; `null`: its defaults).
    #[cfg_attr(feature = "clap", arg(long, value_name = "JSON", value_parser = json_value, default_value = "null"))]
    #[serde(default)]
    pub optimizer_config: serde_json::Value,
    /// Objectives (see `lopper objectives`); on the command line `--objectives`.
    #[cfg_attr(feature = "clap", arg(skip = d_objectives()))]
    #[serde(default = "d_objectives")]
    pub objectives: Vec<ObjectiveSpec>,
    /// Evaluations.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_budget()))]
    #[serde(default = "d_budget")]
    pub budget: usize,
    /// Seed of the optimizer.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    #[serde(default)]
    pub seed: u64,
    /// Evaluations in parallel (timings still run one at a time): threads, or with a trial
    /// store the trials kept in flight for its workers.
    #[cfg_attr(
        feature = "clap",
        arg(long, visible_alias = "parallel", default_value_t = 1)
    )]
    #[serde(default = "one")]
    pub workers: usize,
    /// Evaluate the space's largest, smallest and mid-point sub-networks first.
    #[cfg_attr(feature = "clap", arg(long))]
    #[serde(default)]
    pub initial_design: bool,
    /// The hypervolume's reference point, one coordinate per objective (default: 1 for every
    /// objective measured as a fraction).
    #[cfg_attr(
        feature = "clap",
        arg(
            long = "ref",
            value_name = "X,Y,...",
            value_delimiter = ',',
            allow_hyphen_values = true
        )
    )]
    #[serde(default, alias = "ref")]
    pub reference_point: Option<Vec<f64>>,
    /// Score on the first N validation examples only (the paper's large-task protocol caps
    /// them).
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub validation_limit: Option<usize>,
    /// Examples per batch when scoring.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_eval_batch_size()))]
    #[serde(default = "d_eval_batch_size")]
    pub eval_batch_size: usize,
}

#[cfg(feature = "clap")]
fn json_value(text: &str) -> std::result::Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

impl Default for SearchSpec {
    fn default() -> Self {
        Self {
            checkpoint: Checkpoint::Best,
            optimizer: d_optimizer(),
            optimizer_config: serde_json::Value::Null,
            objectives: d_objectives(),
            budget: d_budget(),
            seed: 0,
            workers: 1,
            initial_design: false,
            reference_point: None,
            validation_limit: None,
            eval_batch_size: d_eval_batch_size(),
        }
    }
}

impl SearchSpec {
    /// Checks what can be checked before anything is read.
    pub fn check(&self) -> Result<()> {
        if self.budget == 0 || self.workers == 0 || self.eval_batch_size == 0 {
            return Err(PipelineError::setting(
                "budget, workers, eval_batch_size",
                "at least 1",
            ));
        }
        if self.objectives.is_empty() {
            return Err(PipelineError::setting(
                "objectives",
                "name at least one objective",
            ));
        }
        Ok(())
    }
}

/// How a search ended.
#[derive(Debug)]
pub struct SearchOutcome {
    /// The front as `front.json` holds it.
    pub front: FrontFile,
    /// The hypervolume after each evaluation, when there is a reference point.
    pub hypervolume: Option<Vec<f64>>,
    /// Evaluations in the trial log.
    pub evaluations: usize,
    /// Evaluations answered from the evaluator's cache.
    pub cache_hits: usize,
    /// Evaluations replayed from the folder of a resumed search.
    pub replayed: usize,
    /// The plots drawn, or why there are none (no font).
    pub plots: Result<Vec<PathBuf>>,
}

/// A training run's folder read back: its record and the checkpoint asked for.
pub fn read_train_run(run: &TrainDir) -> Result<TrainRecord> {
    let path = run.record();
    if !path.is_file() {
        return Err(PipelineError::NotATrainRun {
            dir: run.path().to_path_buf(),
            missing: path,
        });
    }
    TrainRecord::read(&path)
}

/// A search run through a trial store instead of threads: this process coordinates,
/// `lopper worker` processes evaluate ([`search_worker`]).
#[derive(Debug, Clone)]
pub struct Distributed {
    /// The store.
    pub url: StoreUrl,
    /// The study's name in it.
    pub study: String,
    /// Trials in flight, leases, attempts.
    pub settings: StudySettings,
}

/// What a worker of a distributed search loads: the training run (an absolute path, so
/// the folder must be reachable at the same path on every machine: a shared file system)
/// and the search's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchTask {
    /// The `lopper train` run.
    pub train_run: PathBuf,
    /// The search.
    pub spec: SearchSpec,
}

/// What a study's workers load, as its coordinator records it in the store (the one type
/// both sides read and write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StudyTask {
    /// A multi-objective test problem (`lopper bench-moo`).
    BenchMoo {
        /// Its name.
        problem: String,
        /// Milliseconds every evaluation sleeps.
        eval_delay_ms: u64,
        /// Epochs of the synthetic fidelity, for a multi-fidelity search.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fidelity: Option<u32>,
    },
    /// A search of a trained super-network (`lopper search`).
    Search(SearchTask),
}

/// What a search evaluates with, loaded once.
struct Loaded {
    meta: crate::records::TrainMeta,
    checkpoint: PathBuf,
    splits: lopper_data::Splits,
    net: SuperNet,
    tokenizer: TextTokenizer,
    ctx: ObjectiveContext,
    validation: usize,
    objectives: Vec<Box<dyn SubnetObjective>>,
    space: Box<dyn lopper_core::SearchSpace>,
}

fn load(spec: &SearchSpec, run: &TrainDir) -> Result<Loaded> {
    spec.check()?;
    let record = read_train_run(run)?;
    let meta = record.meta;
    let checkpoint = run.checkpoint(spec.checkpoint);
    let splits = read_splits(&meta.task, &meta.data, &meta.split.protocol()?)?;
    let device = lopper_model::default_device();
    let (net, _) = SuperNet::load(&checkpoint, &device, 0)?;
    let tokenizer = TextTokenizer::from_dir(&checkpoint, meta.max_len)?;
    let (ctx, validation) = validation_context(
        &splits,
        spec.validation_limit.or(meta.split.validation_limit),
        &tokenizer,
        &meta,
        net.config(),
        &device,
        spec.eval_batch_size,
    )?;
    let objectives = spec
        .objectives
        .iter()
        .map(|s| s.build(&ctx))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let space = meta.space_config().build(net.arch())?;
    Ok(Loaded {
        meta,
        checkpoint,
        splits,
        net,
        tokenizer,
        ctx,
        validation,
        objectives,
        space,
    })
}

/// Evaluates trials of the distributed search `study` (its coordinator recorded `task`)
/// until the study is done; `on_event` sees every claim and result.
pub fn search_worker<'a>(
    task: &SearchTask,
    url: &StoreUrl,
    study: &str,
    on_event: impl FnMut(&WorkerEvent) + 'a,
) -> Result<WorkerSummary> {
    let loaded = load(&task.spec, &TrainDir::new(&task.train_run))?;
    let evaluator = SubnetEvaluator::new(loaded.space.as_ref(), &loaded.net, loaded.objectives);
    Ok(Worker::new(url.clone(), study, &evaluator)
        .on_event(on_event)
        .run()?)
}

/// Searches the super-network trained in `run` into `dir` (resuming a search `dir` holds),
/// scores the front on the test set, and writes `front.json`, `front.csv`,
/// `hypervolume.csv` and the plots.
pub fn search(
    spec: &SearchSpec,
    run: &TrainDir,
    dir: &SearchDir,
    observers: &dyn Observers,
) -> Result<SearchOutcome> {
    search_with(spec, run, dir, observers, None)
}

/// [`search`], with the evaluations in worker processes through a trial store when
/// `distributed` is given (the study then holds the trials; `dir` gets the front and plots).
pub fn search_with(
    spec: &SearchSpec,
    run: &TrainDir,
    dir: &SearchDir,
    observers: &dyn Observers,
    distributed: Option<&Distributed>,
) -> Result<SearchOutcome> {
    let Loaded {
        meta,
        checkpoint,
        splits,
        net,
        tokenizer,
        ctx,
        validation,
        objectives,
        space,
    } = load(spec, run)?;
    let meta = &meta;
    let described: Vec<Objective> = objectives.iter().map(|o| o.objective()).collect();
    let reference = match &spec.reference_point {
        Some(r) => Some(r.clone()),
        None if described.iter().all(|o| o.unit == "fraction") => Some(vec![1.0; described.len()]),
        None => None,
    };
    if let Some(r) = &reference
        && r.len() != described.len()
    {
        return Err(PipelineError::setting(
            "reference_point",
            format!("one coordinate per objective ({})", described.len()),
        ));
    }
    let evaluator = SubnetEvaluator::new(space.as_ref(), &net, objectives);
    let mut config = SearchConfig::new(spec.optimizer.clone());
    config.optimizer_config = spec.optimizer_config.clone();
    config.seed = spec.seed;
    config.max_evaluations = Some(spec.budget);
    config.workers = spec.workers;
    config.initial_design = spec.initial_design;
    config.reference_point = reference.clone();
    std::fs::create_dir_all(dir.path()).map_err(|e| PipelineError::io(dir.path(), e))?;
    observers.message(&format!(
        "searching {} ({} space, {} validation examples of {}) with {} for {} evaluations{}",
        checkpoint.display(),
        meta.space,
        validation,
        meta.task,
        spec.optimizer,
        spec.budget,
        distributed.map_or(String::new(), |d| format!(
            " through study `{}` of {}",
            d.study, d.url
        ))
    ));
    let mut search = Search::new(space.as_ref(), &evaluator, config);
    search = match distributed {
        Some(d) => {
            let train_run =
                std::fs::canonicalize(run.path()).map_err(|e| PipelineError::io(run.path(), e))?;
            let task = StudyTask::Search(SearchTask {
                train_run,
                spec: spec.clone(),
            });
            search.study(d.url.clone(), &d.study, d.settings.clone(), &task)?
        }
        None => search.run_dir(dir.path()),
    };
    if let Some(o) = observers.search("search") {
        search = search.observer(o);
    }
    let result = search.run()?;
    if distributed.is_some() {
        // The study in the store stays the search's memory; a copy of its trials in `dir`
        // is what the report and the plots read.
        let mut copy = lopper_search::RunStore::open(dir.path())?.store;
        for r in &result.records {
            copy.append(r)?;
        }
    }

    let test_error = test_error_objective(
        &splits,
        meta,
        &tokenizer,
        net.config(),
        &ctx,
        spec.eval_batch_size,
    )?;
    let measure_test = |subnet: &Subnet| -> Result<Option<f64>> {
        match &test_error {
            Some(o) => Ok(Some(o.measure(&net, subnet)?.value)),
            None => Ok(None),
        }
    };
    let mut ranked: Vec<&TrialRecord> = result.front.iter().map(|&i| &result.records[i]).collect();
    ranked.sort_by(|a, b| a.values[0].total_cmp(&b.values[0]));
    // Points that decode to the same sub-network (no layer kept, whatever the widths) are one
    // member of the front: the first trial that reached it stands for them.
    let mut seen = HashSet::new();
    let mut members = Vec::with_capacity(ranked.len());
    for r in ranked {
        let subnet = space.decode(&r.point)?;
        if !seen.insert(subnet.clone()) {
            continue;
        }
        members.push(FrontMember {
            id: r.id,
            point: Some(r.point.clone()),
            summary: subnet.to_string(),
            values: r.values.clone(),
            test_error: measure_test(&subnet)?,
            info: r.info.clone(),
            subnet,
            model: None,
        });
    }
    // The unpruned network, the baseline of a selection by error increase: from the trials
    // when the search visited it, else measured now.
    let full_subnet = Subnet::full(&net.arch());
    let visited = result
        .records
        .iter()
        .find(|r| space.decode(&r.point).is_ok_and(|s| s == full_subnet));
    let full_values = match visited {
        Some(r) => r.values.clone(),
        None => lopper_prune::SubnetEvaluator::measure(&evaluator, &full_subnet)?.values,
    };
    let front = FrontFile {
        objectives: described,
        reference_point: reference,
        front: members,
        full: FullNetwork {
            summary: full_subnet.to_string(),
            values: full_values,
            test_error: measure_test(&full_subnet)?,
        },
    };
    write_front_csv(&front, &dir.front_csv())?;
    front.write(&dir.front())?;
    if let Some(trace) = &result.hypervolume_trace {
        write_hypervolume(trace, &dir.hypervolume())?;
    }
    let plots = crate::report::search_plots(dir, &front);
    Ok(SearchOutcome {
        front,
        hypervolume: result.hypervolume_trace,
        evaluations: result.records.len(),
        cache_hits: evaluator.cache_hits(),
        replayed: result.resumed,
        plots,
    })
}

/// What objectives are built from, with the validation split of `splits` (its first `limit`
/// examples) batched once for the `error` objective; and how many examples that is.
pub(crate) fn validation_context(
    splits: &lopper_data::Splits,
    limit: Option<usize>,
    tokenizer: &TextTokenizer,
    meta: &crate::records::TrainMeta,
    config: &lopper_model::EncoderConfig,
    device: &burn::tensor::Device,
    batch_size: usize,
) -> Result<(ObjectiveContext, usize)> {
    let mut validation = splits.validation.clone();
    if let Some(n) = limit {
        validation.examples.truncate(n);
    }
    let validation = EncodedDataset::new(&validation, tokenizer)?;
    let scorer = Scorer::new(&meta.task.task(), &validation, config, device, batch_size)?;
    let ctx = ObjectiveContext {
        config: config.clone(),
        device: device.clone(),
        validation: Some(Arc::new(scorer)),
    };
    Ok((ctx, validation.len()))
}

/// The `error` objective itself, pointed at the test set of `splits` (cut to the run's
/// `test_limit`), so that a front's validation and test errors count alike; `None` when the
/// protocol has no test set.
pub(crate) fn test_error_objective(
    splits: &lopper_data::Splits,
    meta: &crate::records::TrainMeta,
    tokenizer: &TextTokenizer,
    config: &lopper_model::EncoderConfig,
    ctx: &ObjectiveContext,
    batch_size: usize,
) -> Result<Option<Box<dyn SubnetObjective>>> {
    test_scorer(splits, meta, tokenizer, config, &ctx.device, batch_size)?
        .map(|scorer| error_on(scorer, ctx))
        .transpose()
}

/// A scorer of the test set of `splits` (cut to the run's `test_limit`), every metric of the
/// task; `None` when the protocol has no test set.
pub(crate) fn test_scorer(
    splits: &lopper_data::Splits,
    meta: &crate::records::TrainMeta,
    tokenizer: &TextTokenizer,
    config: &lopper_model::EncoderConfig,
    device: &burn::tensor::Device,
    batch_size: usize,
) -> Result<Option<Arc<Scorer>>> {
    let Some(t) = &splits.test else {
        return Ok(None);
    };
    let mut t = t.clone();
    if let Some(n) = meta.split.test_limit {
        t.examples.truncate(n);
    }
    let test = EncodedDataset::new(&t, tokenizer)?;
    let scorer = Scorer::new(&meta.task.task(), &test, config, device, batch_size)?;
    Ok(Some(Arc::new(scorer)))
}

/// The `error` objective itself, pointed at `scorer`'s split instead of the validation split.
pub(crate) fn error_on(
    scorer: Arc<Scorer>,
    ctx: &ObjectiveContext,
) -> Result<Box<dyn SubnetObjective>> {
    let ctx = ObjectiveContext {
        validation: Some(scorer),
        ..ctx.clone()
    };
    Ok(ObjectiveSpec::named("error").build(&ctx)?)
}

/// The front as a table: `id,subnet,<objectives>[,test_error]`, the sub-network's display
/// quoted.
pub fn front_csv(front: &FrontFile) -> Result<String> {
    let path = PathBuf::from("front.csv");
    let csv_err = |e: csv::Error| PipelineError::Csv {
        path: path.clone(),
        source: e,
    };
    let has_test = front.front.iter().any(|m| m.test_error.is_some());
    let mut head = vec!["id".to_string(), "subnet".to_string()];
    head.extend(front.objectives.iter().map(|o| o.name.clone()));
    if has_test {
        head.push("test_error".into());
    }
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(&head).map_err(csv_err)?;
    let bytes = header
        .into_inner()
        .map_err(|e| PipelineError::io(&path, e.into_error()))?;
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(bytes);
    for m in &front.front {
        let mut row = vec![m.id.to_string(), m.summary.clone()];
        row.extend(m.values.iter().map(|v| v.to_string()));
        if let Some(t) = m.test_error {
            row.push(t.to_string());
        }
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| PipelineError::io(&path, e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn write_front_csv(front: &FrontFile, path: &std::path::Path) -> Result<()> {
    let text = front_csv(front)?;
    lopper_core::fs::write_atomic(path, text.as_bytes()).map_err(|e| PipelineError::io(path, e))
}

/// Writes a hypervolume trace as `hypervolume.csv` (`evaluation,hypervolume`).
pub fn write_hypervolume(trace: &[f64], path: &std::path::Path) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| PipelineError::Csv {
        path: path.to_path_buf(),
        source: e,
    };
    w.write_record(["evaluation", "hypervolume"])
        .map_err(csv_err)?;
    for (i, hv) in trace.iter().enumerate() {
        w.write_record([(i + 1).to_string(), hv.to_string()])
            .map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| PipelineError::io(path, e.into_error()))?;
    lopper_core::fs::write_atomic(path, &bytes).map_err(|e| PipelineError::io(path, e))
}

/// The hypervolume trace of a `hypervolume.csv` (`evaluation,hypervolume`).
pub fn read_hypervolume(path: &std::path::Path) -> Result<Vec<f64>> {
    let csv_err = |source| PipelineError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let mut trace = Vec::new();
    for row in reader.deserialize::<(usize, f64)>() {
        trace.push(row.map_err(csv_err)?.1);
    }
    Ok(trace)
}
