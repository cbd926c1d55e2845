//! A dense pruned model of one sub-network, and its evaluation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lopper_core::Subnet;
use lopper_data::{EncodedDataset, TextTokenizer};
use lopper_model::{Model, Network, SuperNet, dense_params, resolve_model};
use lopper_prune::{LatencySettings, ObjectiveContext, ObjectiveSpec};
use lopper_train::Scorer;
use serde::{Deserialize, Serialize};

use crate::records::{EvalRecord, EvalSet, LatencyFigures, UnprunedFigures};
use crate::{DataSpec, PipelineError, Result};

/// The format of an exported model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// A standard Hugging Face checkpoint that `transformers` loads as it is: `pruned_heads`
    /// for narrowed attention, FFN widths zero-padded to the widest kept layer (exact).
    #[default]
    Hf,
    /// `model.onnx`, each layer at its true width (ONNX Runtime, opset 17).
    Onnx,
    /// lopper's own layout, each layer at its true width (`lopper_layers`; only lopper reads
    /// a narrowed one).
    Lopper,
}

impl ExportFormat {
    /// The format's name on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Hf => "hf",
            ExportFormat::Onnx => "onnx",
            ExportFormat::Lopper => "lopper",
        }
    }
}

impl std::fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The sub-network.
    pub subnet: Subnet,
    /// Parameters of the dense model.
    pub params: u64,
    /// Parameters of the unpruned model.
    pub full_params: u64,
    /// The folder.
    pub dir: PathBuf,
    /// The format.
    pub format: ExportFormat,
    /// The weights file (`model.safetensors` or `model.onnx`).
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Zeros of padding stored beside the parameters (a `hf` export of layers of different
    /// FFN widths).
    pub padding_params: u64,
}

/// Writes the dense model of `subnet` of the model in `model` (a folder or hub id) into `out`
/// in `format`, with the tokenizer files.
pub fn export(model: &str, subnet: &Subnet, out: &Path, format: ExportFormat) -> Result<Exported> {
    let dir = resolve_model(model, None)?;
    let device = lopper_model::default_device();
    let (net, _) = SuperNet::load(&dir, &device, 0)?;
    // `extract` checks the sub-network against the model.
    let pruned = net.extract(subnet)?;
    let (file, bytes, padding_params) = match format {
        ExportFormat::Hf => {
            let size = lopper_model::export_hf(&pruned, out, Some(&dir))?;
            ("model.safetensors", size.bytes, size.padding_params)
        }
        ExportFormat::Lopper => {
            let size = lopper_model::export(&pruned, out, Some(&dir))?;
            ("model.safetensors", size.bytes, size.padding_params)
        }
        ExportFormat::Onnx => {
            let bytes = lopper_model::export_onnx(&pruned, out, Some(&dir))?;
            ("model.onnx", bytes, 0)
        }
    };
    Ok(Exported {
        subnet: subnet.clone(),
        params: dense_params(net.config(), subnet),
        full_params: dense_params(net.config(), &Subnet::full(&net.arch())),
        dir: out.to_path_buf(),
        format,
        file: out.join(file),
        bytes,
        padding_params,
    })
}

fn d_batch_size() -> usize {
    64
}
fn d_max_len() -> usize {
    128
}

/// How to evaluate a model; in a pipeline file, the `[eval]` table (the pipeline fills in the
/// task, its data and its protocol from `[train]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct EvalSpec {
    /// Which set: train, validation or test.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = EvalSet::Test))]
    #[serde(default)]
    pub set: EvalSet,
    /// Truncate inputs to this many tokens.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_max_len()))]
    #[serde(default = "d_max_len")]
    pub max_len: usize,
    /// Examples per batch.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = d_batch_size()))]
    #[serde(default = "d_batch_size")]
    pub batch_size: usize,
    /// How latency is timed (the `latency` objective's settings; JSON on the command line,
    /// e.g. `{"batch_size":8,"seq_len":128}`).
    #[cfg_attr(feature = "clap", arg(long, value_name = "JSON", value_parser = latency_settings, default_value = "{}"))]
    #[serde(default)]
    pub latency: LatencySettings,
    /// Score on the first N examples of the set only.
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    #[serde(default)]
    pub limit: Option<usize>,
}

#[cfg(feature = "clap")]
fn latency_settings(text: &str) -> std::result::Result<LatencySettings, String> {
    serde_json::from_str(text).map_err(|e| format!("{e}"))
}

impl Default for EvalSpec {
    fn default() -> Self {
        Self {
            set: EvalSet::Test,
            max_len: d_max_len(),
            batch_size: d_batch_size(),
            latency: LatencySettings::default(),
            limit: None,
        }
    }
}

/// Scores the model in `model` (a checkpoint, an exported model or a hub id), or its
/// sub-network `subnet`, on a set of `data`, with its parameter count and latency.
pub fn evaluate(
    model: &str,
    subnet: Option<&Subnet>,
    data: &DataSpec,
    spec: &EvalSpec,
) -> Result<EvalRecord> {
    if spec.batch_size == 0 {
        return Err(PipelineError::setting("batch_size", "at least 1"));
    }
    let splits = data.splits()?;
    let mut set = match spec.set {
        EvalSet::Train => splits.train,
        EvalSet::Validation => splits.validation,
        EvalSet::Test => splits.test.ok_or(PipelineError::NoTestSet)?,
    };
    if let Some(n) = spec.limit {
        set.examples.truncate(n);
    }
    let dir = resolve_model(model, None)?;
    let device = lopper_model::default_device();
    let (model, report) = Model::load(&dir, &device, 0)?;
    if !report.initialized.is_empty() {
        return Err(PipelineError::NoTaskHead {
            dir,
            missing: report.initialized.join(", "),
        });
    }
    let net = model.network();
    // A sub-network of a checkpoint is counted against the unpruned network; a pruned model
    // is counted as it is (its config does not record the layers it dropped).
    let (subnet, params, full_params) = match (&model, subnet) {
        (Model::Pruned(_), Some(_)) => return Err(PipelineError::Exported { dir }),
        (Model::Pruned(pruned), None) => (net.whole(), pruned.params(), None),
        (Model::Super(sup), subnet) => {
            let subnet = subnet.cloned().unwrap_or_else(|| net.whole());
            subnet.validate(&sup.arch())?;
            let full = dense_params(sup.config(), &net.whole());
            (
                subnet.clone(),
                dense_params(sup.config(), &subnet),
                Some(full),
            )
        }
    };
    let tokenizer = TextTokenizer::from_dir(&dir, spec.max_len)?;
    let source = data.task.resolve(&data.data)?;
    let task = source.task();
    let encoded = EncodedDataset::new(&set, &tokenizer)?;
    let scorer = Scorer::new(&task, &encoded, net.config(), &device, spec.batch_size)?;
    let e = scorer.score(net, &subnet)?;
    let ctx = ObjectiveContext {
        config: net.config().clone(),
        device: device.clone(),
        validation: Some(Arc::new(scorer)),
    };
    let latency_ms = latency(&ctx, net, &subnet, &spec.latency)?;
    Ok(EvalRecord {
        model: dir,
        subnet: matches!(model, Model::Super(_)).then(|| subnet.to_string()),
        task: source,
        set: spec.set,
        examples: encoded.len(),
        metric: e.metric.name().to_string(),
        score: e.score,
        values: e.named_values(),
        params,
        full_params,
        params_fraction: full_params.map(|f| params as f64 / f as f64),
        latency_ms,
        unpruned: None,
    })
}

/// The latency of `subnet` of `net`, timed as the `latency` objective times it.
fn latency(
    ctx: &ObjectiveContext,
    net: &dyn Network,
    subnet: &Subnet,
    settings: &LatencySettings,
) -> Result<LatencyFigures> {
    let v = ObjectiveSpec::with_settings("latency", settings)?
        .build(ctx)?
        .measure(net, subnet)?;
    let info = |k: &str| v.info[k].as_f64().unwrap_or(f64::NAN);
    Ok(LatencyFigures {
        median: v.value,
        p10: info("latency_p10_ms"),
        p90: info("latency_p90_ms"),
        batch_size: settings.batch_size,
        seq_len: settings.seq_len,
    })
}

/// The unpruned network of the checkpoint in `model`: its parameters, and its latency timed
/// with `settings` (`score` is the caller's: the training run's test score).
pub fn unpruned_figures(
    model: &Path,
    score: Option<f64>,
    settings: &LatencySettings,
) -> Result<UnprunedFigures> {
    let device = lopper_model::default_device();
    let (net, _) = SuperNet::load(model, &device, 0)?;
    let full = Subnet::full(&net.arch());
    let ctx = ObjectiveContext {
        config: net.config().clone(),
        device,
        validation: None,
    };
    Ok(UnprunedFigures {
        params: dense_params(net.config(), &full),
        score,
        latency_ms: latency(&ctx, &net, &full, settings)?,
    })
}
