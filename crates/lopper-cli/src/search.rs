//! `lopper search`: search a trained super-network for the Pareto set of sub-networks.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use lopper::core::Subnet;
use lopper::data::{EncodedDataset, TaskSource, TextTokenizer};
use lopper::model::SuperNet;
use lopper::prune::{ObjectiveContext, ObjectiveSpec, SubnetEvaluator};
use lopper::search::{ProgressObserver, Search, SearchConfig};
use lopper::space::{Sampler, SpaceConfig, SpaceKind};
use lopper::train::{FitSettings, Scorer};

use crate::train::{ProtocolArg, read_splits};

/// Flags of `lopper search`.
#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// The folder of a `lopper train` run: its task, data, split, space and best checkpoint
    /// are used.
    #[arg(long, value_name = "DIR")]
    pub train_run: PathBuf,
    /// Which checkpoint of the run: best or last.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,
    /// Optimizer plugin (see `lopper optimizers`).
    #[arg(long, default_value = "local-search")]
    pub optimizer: String,
    /// The optimizer's settings as JSON.
    #[arg(long, value_name = "JSON")]
    pub optimizer_config: Option<String>,
    /// Objectives, comma-separated, each `name` or `name={json}` (see `lopper objectives`);
    /// e.g. `error,params` or `error,latency={"batch_size":8}`.
    #[arg(long, default_value = "error,params")]
    pub objectives: String,
    /// Evaluations.
    #[arg(long, default_value_t = 100)]
    pub budget: usize,
    /// Seed of the optimizer.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Evaluations in parallel (timings still run one at a time).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Evaluate the space's largest, smallest and mid-point sub-networks first.
    #[arg(long)]
    pub initial_design: bool,
    /// The hypervolume's reference point, one coordinate per objective (default: 1 for every
    /// objective measured as a fraction).
    #[arg(long = "ref", value_name = "X,Y,...")]
    pub reference: Option<String>,
    /// Score on the first N validation examples only (the paper's large-task protocol caps
    /// them).
    #[arg(long, value_name = "N")]
    pub validation_limit: Option<usize>,
    /// Examples per batch when scoring.
    #[arg(long, default_value_t = 64)]
    pub eval_batch_size: usize,
    /// Output folder (trial log and checkpoint of the search, front.csv, front.json,
    /// hypervolume.csv). Running the same command again resumes the search.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// What a train run recorded, as the search needs it.
struct TrainRun {
    source: TaskSource,
    data: PathBuf,
    protocol: ProtocolArg,
    split_seed: u64,
    validation_limit: Option<usize>,
    test_limit: Option<usize>,
    max_len: usize,
    space: SpaceConfig,
}

fn read_train_run(dir: &Path) -> Result<TrainRun> {
    let path = dir.join("train.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (is it a `lopper train` run?)",
            path.display()
        )
    })?;
    let settings: FitSettings = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a train run", path.display()))?;
    let m = &settings.meta;
    let field = |k: &str| -> Result<&serde_json::Value> {
        m.get(k)
            .with_context(|| format!("{}: meta has no `{k}`", path.display()))
    };
    let str_field = |k: &str| -> Result<String> {
        field(k)?
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("{}: meta `{k}` is not text", path.display()))
    };
    let split = field("split")?;
    let protocol = match split.get("protocol").and_then(|p| p.as_str()) {
        Some("paper") => ProtocolArg::Paper,
        Some("plain") => ProtocolArg::Plain,
        other => bail!("{}: unknown split protocol {other:?}", path.display()),
    };
    let sampler = match m.get("sampler").and_then(|s| s.as_str()) {
        Some("sparsity") => Sampler::Sparsity,
        _ => Sampler::Uniform,
    };
    let kind: SpaceKind = str_field("space")?.parse()?;
    Ok(TrainRun {
        source: str_field("task")?.parse()?,
        data: PathBuf::from(str_field("data")?),
        protocol,
        split_seed: split.get("seed").and_then(|s| s.as_u64()).unwrap_or(0),
        validation_limit: split
            .get("validation_limit")
            .and_then(|s| s.as_u64())
            .map(|n| n as usize),
        test_limit: split
            .get("test_limit")
            .and_then(|s| s.as_u64())
            .map(|n| n as usize),
        max_len: field("max_len")?.as_u64().unwrap_or(128) as usize,
        space: SpaceConfig { kind, sampler },
    })
}

/// Runs `lopper search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    if args.budget == 0 || args.workers == 0 || args.eval_batch_size == 0 {
        bail!("--budget, --workers and --eval-batch-size must be at least 1");
    }
    let run = read_train_run(&args.train_run)?;
    let checkpoint = match args.checkpoint.as_str() {
        "best" | "last" => args.train_run.join(&args.checkpoint),
        other => bail!("--checkpoint {other}: expected best or last"),
    };
    let splits = read_splits(run.source, &run.data, run.protocol, run.split_seed)?;
    let device = lopper::model::default_device();
    let (net, _) = SuperNet::load(&checkpoint, &device, 0)
        .with_context(|| format!("cannot load the checkpoint {}", checkpoint.display()))?;
    let tokenizer = TextTokenizer::from_dir(&checkpoint, run.max_len)?;
    let task = run.source.task();
    let mut validation = splits.validation.clone();
    if let Some(n) = args.validation_limit.or(run.validation_limit) {
        validation.examples.truncate(n);
    }
    let validation = EncodedDataset::new(&validation, &tokenizer)?;
    let scorer = Arc::new(Scorer::new(
        &task,
        &validation,
        net.config(),
        &device,
        args.eval_batch_size,
    )?);
    let ctx = ObjectiveContext {
        config: net.config().clone(),
        device: device.clone(),
        validation: Some(scorer),
    };
    let specs = split_specs(&args.objectives)
        .iter()
        .map(|s| ObjectiveSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if specs.is_empty() {
        bail!("--objectives: name at least one objective");
    }
    let objectives = specs
        .iter()
        .map(|s| s.build(&ctx))
        .collect::<Result<Vec<_>, _>>()?;
    let described: Vec<_> = objectives.iter().map(|o| o.objective()).collect();
    let reference = match &args.reference {
        Some(r) => Some(crate::csvio::parse_point(r).context("--ref")?),
        None if described.iter().all(|o| o.unit == "fraction") => Some(vec![1.0; described.len()]),
        None => None,
    };
    if let Some(r) = &reference
        && r.len() != described.len()
    {
        bail!(
            "--ref has {} coordinates for {} objectives",
            r.len(),
            described.len()
        );
    }
    let space = run.space.build(net.arch())?;
    let evaluator = SubnetEvaluator::new(space.as_ref(), &net, objectives);
    let mut config = SearchConfig::new(args.optimizer.clone());
    if let Some(c) = &args.optimizer_config {
        config.optimizer_config =
            serde_json::from_str(c).context("--optimizer-config is not JSON")?;
    }
    config.seed = args.seed;
    config.max_evaluations = Some(args.budget);
    config.workers = args.workers;
    config.initial_design = args.initial_design;
    config.reference_point = reference.clone();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut search =
        Search::new(space.as_ref(), &evaluator, config).run_dir(args.out.join("search"));
    if !args.quiet {
        eprintln!(
            "lopper: searching {} ({} space, {} validation examples of {}) with {} for {} evaluations",
            checkpoint.display(),
            run.space.kind,
            validation.len(),
            run.source,
            args.optimizer,
            args.budget
        );
        search = search.observer(ProgressObserver::new("search"));
    }
    let result = search.run()?;

    // The front, scored on the test set too where the protocol has one.
    // The `error` objective itself, pointed at the test set, so both fronts count alike.
    let test_error = match &splits.test {
        Some(t) => {
            let mut t = t.clone();
            if let Some(n) = run.test_limit {
                t.examples.truncate(n);
            }
            let scorer = Scorer::new(
                &task,
                &EncodedDataset::new(&t, &tokenizer)?,
                net.config(),
                &device,
                args.eval_batch_size,
            )?;
            let ctx = ObjectiveContext {
                validation: Some(Arc::new(scorer)),
                ..ctx
            };
            Some(ObjectiveSpec::parse("error")?.build(&ctx)?)
        }
        None => None,
    };
    let mut front: Vec<&lopper::search::TrialRecord> =
        result.front.iter().map(|&i| &result.records[i]).collect();
    front.sort_by(|a, b| a.values[0].total_cmp(&b.values[0]));
    // Points that decode to the same sub-network (no layer kept, whatever the widths) are one
    // member of the front: the first trial that reached it stands for them.
    let mut seen = std::collections::HashSet::new();
    let mut members = Vec::with_capacity(front.len());
    for r in front {
        if seen.insert(space.decode(&r.point)?) {
            members.push(r);
        }
    }
    let front = members;
    let mut csv = String::from("id,subnet");
    for o in &described {
        write!(csv, ",{}", o.name)?;
    }
    if test_error.is_some() {
        write!(csv, ",test_error")?;
    }
    csv.push('\n');
    let mut json = Vec::new();
    for r in &front {
        let subnet = space.decode(&r.point)?;
        let test = match &test_error {
            Some(o) => Some(o.measure(&net, &subnet)?.value),
            None => None,
        };
        write!(csv, "{},\"{}\"", r.id, subnet)?;
        for v in &r.values {
            write!(csv, ",{v}")?;
        }
        if let Some(t) = test {
            write!(csv, ",{t}")?;
        }
        csv.push('\n');
        json.push(serde_json::json!({
            "id": r.id,
            "point": r.point,
            "subnet": subnet,
            "summary": subnet.to_string(),
            "values": r.values,
            "test_error": test,
            "info": r.info,
        }));
    }
    // The unpruned network, the baseline of `lopper select --max-error-increase`: from the
    // trials when the search visited it, else measured now.
    let full_subnet = Subnet::full(&net.arch());
    let visited = result
        .records
        .iter()
        .find(|r| space.decode(&r.point).is_ok_and(|s| s == full_subnet));
    let full_values = match visited.map(|r| r.values.clone()) {
        Some(v) => v,
        None => evaluator.measure(&full_subnet)?.values,
    };
    let full_test = match &test_error {
        Some(o) => Some(o.measure(&net, &full_subnet)?.value),
        None => None,
    };
    println!(
        "full network: {}{}",
        described
            .iter()
            .zip(&full_values)
            .map(|(o, v)| format!("{} {v:.4}", o.name))
            .collect::<Vec<_>>()
            .join(", "),
        full_test.map_or(String::new(), |t| format!(", test_error {t:.4}"))
    );
    let write = |name: &str, text: String| -> Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("front.csv", csv.clone())?;
    write(
        "front.json",
        serde_json::to_string_pretty(&serde_json::json!({
            "objectives": described,
            "reference_point": reference,
            "front": json,
            "full": {
                "summary": full_subnet.to_string(),
                "values": full_values,
                "test_error": full_test,
            },
        }))?,
    )?;
    if let Some(trace) = &result.hypervolume_trace {
        let mut t = String::from("evaluation,hypervolume\n");
        for (i, hv) in trace.iter().enumerate() {
            writeln!(t, "{},{hv}", i + 1)?;
        }
        write("hypervolume.csv", t)?;
        if let Some(last) = trace.last() {
            println!("hypervolume after {} evaluations: {last:.4}", trace.len());
        }
    }
    println!(
        "{} evaluations ({} answered from the cache{}), front of {}:",
        result.records.len(),
        evaluator.cache_hits(),
        if result.resumed > 0 {
            format!(", {} replayed from the run folder", result.resumed)
        } else {
            String::new()
        },
        front.len()
    );
    print!("{csv}");
    // Plots need a font for their text; without one the search's results still stand.
    match lopper::report::search_plots(&args.out) {
        Ok(files) => {
            for f in files {
                println!("plot: {}", f.display());
            }
        }
        Err(e) => eprintln!("lopper: warning: no plots: {e}"),
    }
    println!("written: {}", args.out.display());
    Ok(())
}

/// Splits `error,params={"count":"dense"},macs` at the commas outside braces.
fn split_specs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut cur) = (0i32, String::new());
    for c in s.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_specs;

    #[test]
    fn specs_split_outside_braces() {
        assert_eq!(
            split_specs(r#"error, params={"count":"dense","relative":false},macs"#),
            [
                "error",
                r#"params={"count":"dense","relative":false}"#,
                "macs"
            ]
        );
        assert!(split_specs(" ").is_empty());
    }
}
