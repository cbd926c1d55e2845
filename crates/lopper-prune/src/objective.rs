//! Objectives: what a sub-network of a trained super-network is measured on.
//!
//! An objective is a [`SubnetObjective`]; objectives register by name as [`ObjectivePlugin`]s
//! (through `inventory`, as optimizers do), so one of your own plugs in without touching this
//! crate. The built-in ones:
//!
//! | name | value | settings (JSON) |
//! |---|---|---|
//! | `error` | 1 − the task's metric on the validation split (NaN → 1), the sub-network run sliced | — |
//! | `params` | parameters as a fraction of the full model's | `count`: `"paper"` (default: embeddings, pooler and head included, attention output projection at full size, as the reference code counts) or `"dense"` (the exact count of the exported dense model); `relative`: `true` (default) or `false` for the absolute count |
//! | `macs` | multiply-accumulates of one forward pass of the layers at `seq_len` (default 128) | `seq_len`, `flops`: `true` for FLOPs (2 × MACs) |
//! | `latency` | median milliseconds of a sliced forward pass of a `batch_size` × `seq_len` batch (default 1 × 128) after `warmup` (2) passes, over `repetitions` (10) | `batch_size`, `seq_len`, `warmup`, `repetitions` |
//!
//! Every measurement also returns information for the trial log: `params` gives both counts
//! absolute and relative, `latency` its spread.

use std::sync::Arc;
use std::time::Instant;

use burn::tensor::Device;
use lopper_core::{Objective, Subnet, find_plugin};
use lopper_model::{Batch, EncoderConfig, Mode, Network, dense_params, macs, paper_params};
use lopper_train::Scorer;
use serde::Deserialize;

use crate::{PruneError, Result};

/// One measured value and what else is worth logging about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// In the objective's own orientation.
    pub value: f64,
    /// Extra information for the trial log (`null` if none).
    pub info: serde_json::Value,
}

impl Value {
    /// A value with nothing more to say.
    pub fn plain(value: f64) -> Self {
        Self {
            value,
            info: serde_json::Value::Null,
        }
    }
}

/// Something a sub-network is measured on.
pub trait SubnetObjective: Send + Sync {
    /// Its name, direction and unit.
    fn objective(&self) -> Objective;

    /// Measures `subnet` of `net` (a network on a device without autodiff).
    fn measure(&self, net: &dyn Network, subnet: &Subnet) -> Result<Value>;

    /// Whether it must run alone (a timing): the evaluator then holds every other
    /// measurement back while it runs.
    fn exclusive(&self) -> bool {
        false
    }
}

/// What objectives are built from.
#[derive(Clone)]
pub struct ObjectiveContext {
    /// The super-network's configuration.
    pub config: EncoderConfig,
    /// The device measurements run on.
    pub device: Device,
    /// The validation split, batched once, if the search has one (`error` needs it).
    pub validation: Option<Arc<Scorer>>,
}

/// A registered objective.
pub struct ObjectivePlugin {
    /// The name it is selected by.
    pub name: &'static str,
    /// One line for listings.
    pub summary: &'static str,
    /// Builds it from its settings (`null` for the defaults).
    pub build: fn(&ObjectiveContext, &serde_json::Value) -> Result<Box<dyn SubnetObjective>>,
}

inventory::collect!(ObjectivePlugin);

/// Every registered objective, sorted by name.
pub fn objective_plugins() -> Vec<&'static ObjectivePlugin> {
    let mut all: Vec<&'static ObjectivePlugin> = inventory::iter::<ObjectivePlugin>().collect();
    all.sort_by_key(|p| p.name);
    all
}

/// An objective and its settings, as a search names it. In a configuration file it is either
/// a name (`"error"`) or a table with the name and the settings (`{ name = "latency",
/// batch_size = 8 }`); on the command line `name` or `name={json settings}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectiveSpec {
    /// The registered name.
    pub name: String,
    /// Its settings (`null` for the defaults).
    pub config: serde_json::Value,
}

/// Written in the form it is read in: the bare name for the defaults, else the table, so a
/// search's stored task reads back as the same objectives.
impl serde::Serialize for ObjectiveSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        match &self.config {
            serde_json::Value::Null => s.serialize_str(&self.name),
            serde_json::Value::Object(config) => {
                if config.contains_key("name") {
                    return Err(S::Error::custom(format!(
                        "objective '{}': a setting cannot be called `name`",
                        self.name
                    )));
                }
                let mut map = s.serialize_map(Some(config.len() + 1))?;
                map.serialize_entry("name", &self.name)?;
                for (k, v) in config {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            other => Err(S::Error::custom(format!(
                "objective '{}': settings must be a table, not {other}",
                self.name
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for ObjectiveSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "an objective's name, or a table with its `name` and settings"
        )]
        enum Repr {
            Name(String),
            Table {
                name: String,
                #[serde(flatten)]
                config: serde_json::Map<String, serde_json::Value>,
            },
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Name(name) => Self::named(name),
            Repr::Table { name, config } => Self {
                name,
                config: if config.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::Object(config)
                },
            },
        })
    }
}

impl ObjectiveSpec {
    /// The objective `name` with its defaults.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            config: serde_json::Value::Null,
        }
    }

    /// The objective `name` with `settings` (any serialisable type, such as
    /// [`LatencySettings`]).
    pub fn with_settings(
        name: impl Into<String>,
        settings: &impl serde::Serialize,
    ) -> Result<Self> {
        let name = name.into();
        let config = serde_json::to_value(settings)
            .map_err(|e| PruneError::objective(&name, format!("settings: {e}")))?;
        Ok(Self { name, config })
    }

    /// Parses `name` or `name={json settings}` (e.g. `params={"count":"dense"}`).
    pub fn parse(spec: &str) -> Result<Self> {
        let spec = spec.trim();
        match spec.split_once('=') {
            None => Ok(Self::named(spec)),
            Some((name, json)) => {
                let config = serde_json::from_str(json).map_err(|e| {
                    PruneError::objective(name.trim(), format!("settings are not JSON: {e}"))
                })?;
                Ok(Self {
                    name: name.trim().to_string(),
                    config,
                })
            }
        }
    }

    /// Parses a comma-separated list such as `error,params={"count":"dense"},macs` (commas
    /// inside braces and brackets belong to the settings).
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        let (mut depth, mut cur) = (0i32, String::new());
        for c in list.chars() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                _ => {}
            }
            if c == ',' && depth == 0 {
                if !cur.trim().is_empty() {
                    out.push(Self::parse(&cur)?);
                }
                cur.clear();
            } else {
                cur.push(c);
            }
        }
        if !cur.trim().is_empty() {
            out.push(Self::parse(&cur)?);
        }
        Ok(out)
    }

    /// Builds the objective from the registry.
    pub fn build(&self, ctx: &ObjectiveContext) -> Result<Box<dyn SubnetObjective>> {
        let plugins = objective_plugins();
        let plugin = find_plugin("objective", &plugins, &self.name, |p| p.name)?;
        (plugin.build)(ctx, &self.config)
    }
}

fn settings<T: for<'de> Deserialize<'de> + Default>(
    name: &str,
    config: &serde_json::Value,
) -> Result<T> {
    if config.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(config.clone())
        .map_err(|e| PruneError::objective(name, format!("bad settings {config}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// error

struct ErrorObjective {
    scorer: Arc<Scorer>,
    mode: Mode,
}

impl SubnetObjective for ErrorObjective {
    fn objective(&self) -> Objective {
        Objective::minimize("error", "fraction")
    }

    fn measure(&self, net: &dyn Network, subnet: &Subnet) -> Result<Value> {
        let e = self.scorer.score_in(net, subnet, self.mode)?;
        // A metric that cannot be computed (a constant prediction's correlation) counts as the
        // worst error, as the reference does.
        let error = if e.score.is_nan() { 1.0 } else { e.error() };
        Ok(Value {
            value: error,
            info: serde_json::json!({ e.metric.name(): e.score }),
        })
    }
}

fn build_error(
    ctx: &ObjectiveContext,
    config: &serde_json::Value,
) -> Result<Box<dyn SubnetObjective>> {
    let mode = match config.get("mode").and_then(|m| m.as_str()) {
        _ if config.is_null() => Mode::Sliced,
        Some("sliced") => Mode::Sliced,
        Some("masked") => Mode::Masked,
        _ => {
            return Err(PruneError::objective(
                "error",
                "settings: {\"mode\": \"sliced\"} (default) or {\"mode\": \"masked\"}",
            ));
        }
    };
    if config.as_object().is_some_and(|o| o.len() > 1) {
        return Err(PruneError::objective("error", "takes only `mode`"));
    }
    let scorer = ctx
        .validation
        .clone()
        .ok_or_else(|| PruneError::objective("error", "needs a validation split"))?;
    Ok(Box::new(ErrorObjective { scorer, mode }))
}

inventory::submit! {
    ObjectivePlugin {
        name: "error",
        summary: "1 - the task's metric on the validation split, the sub-network run sliced ({\"mode\":\"masked\"}: masked, as the reference code)",
        build: build_error,
    }
}

// ---------------------------------------------------------------------------------------------
// params

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Count {
    #[default]
    Paper,
    Dense,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ParamsSettings {
    count: Count,
    relative: bool,
}

impl Default for ParamsSettings {
    fn default() -> Self {
        Self {
            count: Count::Paper,
            relative: true,
        }
    }
}

struct ParamsObjective {
    settings: ParamsSettings,
    config: EncoderConfig,
    full_paper: u64,
    full_dense: u64,
}

impl SubnetObjective for ParamsObjective {
    fn objective(&self) -> Objective {
        let unit = if self.settings.relative {
            "fraction"
        } else {
            "parameters"
        };
        Objective::minimize("params", unit)
    }

    fn measure(&self, _net: &dyn Network, subnet: &Subnet) -> Result<Value> {
        let paper = paper_params(&self.config, subnet);
        let dense = dense_params(&self.config, subnet);
        let (n, full) = match self.settings.count {
            Count::Paper => (paper, self.full_paper),
            Count::Dense => (dense, self.full_dense),
        };
        let value = if self.settings.relative {
            n as f64 / full as f64
        } else {
            n as f64
        };
        Ok(Value {
            value,
            info: serde_json::json!({
                "paper_params": paper,
                "paper_fraction": paper as f64 / self.full_paper as f64,
                "dense_params": dense,
                "dense_fraction": dense as f64 / self.full_dense as f64,
            }),
        })
    }
}

fn build_params(
    ctx: &ObjectiveContext,
    config: &serde_json::Value,
) -> Result<Box<dyn SubnetObjective>> {
    let settings: ParamsSettings = settings("params", config)?;
    let full = Subnet::full(&ctx.config.arch());
    Ok(Box::new(ParamsObjective {
        settings,
        full_paper: paper_params(&ctx.config, &full).max(1),
        full_dense: dense_params(&ctx.config, &full).max(1),
        config: ctx.config.clone(),
    }))
}

inventory::submit! {
    ObjectivePlugin {
        name: "params",
        summary: "parameters as a fraction of the full model (the paper's count, or the exact dense count)",
        build: build_params,
    }
}

// ---------------------------------------------------------------------------------------------
// macs

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MacsSettings {
    seq_len: usize,
    flops: bool,
}

impl Default for MacsSettings {
    fn default() -> Self {
        Self {
            seq_len: 128,
            flops: false,
        }
    }
}

struct MacsObjective {
    settings: MacsSettings,
    config: EncoderConfig,
}

impl SubnetObjective for MacsObjective {
    fn objective(&self) -> Objective {
        if self.settings.flops {
            Objective::minimize("flops", "FLOPs")
        } else {
            Objective::minimize("macs", "MACs")
        }
    }

    fn measure(&self, _net: &dyn Network, subnet: &Subnet) -> Result<Value> {
        let m = macs(&self.config, subnet, self.settings.seq_len) as f64;
        Ok(Value {
            value: if self.settings.flops { 2.0 * m } else { m },
            info: serde_json::json!({ "macs": m, "seq_len": self.settings.seq_len }),
        })
    }
}

fn build_macs(
    ctx: &ObjectiveContext,
    config: &serde_json::Value,
) -> Result<Box<dyn SubnetObjective>> {
    let settings: MacsSettings = settings("macs", config)?;
    if settings.seq_len == 0 {
        return Err(PruneError::objective("macs", "seq_len must be at least 1"));
    }
    Ok(Box::new(MacsObjective {
        settings,
        config: ctx.config.clone(),
    }))
}

inventory::submit! {
    ObjectivePlugin {
        name: "macs",
        summary: "multiply-accumulates of one forward pass at a sequence length (FLOPs with flops: true)",
        build: build_macs,
    }
}

// ---------------------------------------------------------------------------------------------
// latency

/// The settings of the `latency` objective.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencySettings {
    /// Sequences per timed batch.
    pub batch_size: usize,
    /// Tokens per sequence.
    pub seq_len: usize,
    /// Untimed passes first.
    pub warmup: usize,
    /// Timed passes.
    pub repetitions: usize,
    /// Threads of the CPU backend's kernels while timing (default: the process's pool, i.e.
    /// one per core or `RAYON_NUM_THREADS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

impl Default for LatencySettings {
    fn default() -> Self {
        Self {
            batch_size: 1,
            seq_len: 128,
            warmup: 2,
            repetitions: 10,
            threads: None,
        }
    }
}

struct LatencyObjective {
    settings: LatencySettings,
    batch: Batch,
    /// The thread pool the timing runs in, when `threads` is set.
    pool: Option<rayon::ThreadPool>,
}

impl SubnetObjective for LatencyObjective {
    fn objective(&self) -> Objective {
        Objective::minimize("latency", "ms")
    }

    fn exclusive(&self) -> bool {
        true
    }

    fn measure(&self, net: &dyn Network, subnet: &Subnet) -> Result<Value> {
        match &self.pool {
            Some(pool) => pool.install(|| self.time(net, subnet)),
            None => self.time(net, subnet),
        }
    }
}

impl LatencyObjective {
    fn time(&self, net: &dyn Network, subnet: &Subnet) -> Result<Value> {
        let run = || -> Result<()> {
            let out = net.forward(&self.batch, subnet, Mode::Sliced)?;
            // Wait for the result: backends may run asynchronously.
            let _ = out.last_hidden_state.into_data();
            Ok(())
        };
        for _ in 0..self.settings.warmup {
            run()?;
        }
        let mut ms = Vec::with_capacity(self.settings.repetitions);
        for _ in 0..self.settings.repetitions {
            let t0 = Instant::now();
            run()?;
            ms.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        Ok(Value {
            value: q(0.5),
            info: serde_json::json!({
                "latency_p10_ms": q(0.1),
                "latency_p90_ms": q(0.9),
                "latency_min_ms": ms[0],
                "repetitions": ms.len(),
                "batch_size": self.settings.batch_size,
                "seq_len": self.settings.seq_len,
                "threads": self.pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads()),
            }),
        })
    }
}

fn build_latency(
    ctx: &ObjectiveContext,
    config: &serde_json::Value,
) -> Result<Box<dyn SubnetObjective>> {
    let settings: LatencySettings = settings("latency", config)?;
    if settings.batch_size == 0
        || settings.seq_len == 0
        || settings.repetitions == 0
        || settings.threads == Some(0)
    {
        return Err(PruneError::objective(
            "latency",
            "batch_size, seq_len, repetitions and threads must be at least 1",
        ));
    }
    let pool = match settings.threads {
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| PruneError::objective("latency", format!("threads: {e}")))?,
        ),
        None => None,
    };
    // A fixed batch of ordinary token ids (the timing does not depend on their values).
    let vocab = ctx.config.vocab_size.max(2) as u32;
    let ids: Vec<Vec<u32>> = (0..settings.batch_size)
        .map(|b| {
            (0..settings.seq_len)
                .map(|i| 1 + ((b * 7919 + i * 104_729) as u32 % (vocab - 1)))
                .collect()
        })
        .collect();
    let batch = Batch::new(&ids, None, None, &ctx.config, &ctx.device)?;
    Ok(Box::new(LatencyObjective {
        settings,
        batch,
        pool,
    }))
}

inventory::submit! {
    ObjectivePlugin {
        name: "latency",
        summary: "median milliseconds of a sliced forward pass on the active backend, measured alone",
        build: build_latency,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_split_outside_braces() {
        let specs =
            ObjectiveSpec::parse_list(r#"error, params={"count":"dense","relative":false},macs"#)
                .unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["error", "params", "macs"]);
        assert_eq!(specs[1].config["count"], "dense");
        assert!(specs[0].config.is_null());
        assert!(ObjectiveSpec::parse_list(" ").unwrap().is_empty());
        assert!(ObjectiveSpec::parse_list("error,params={oops}").is_err());
    }

    #[test]
    fn specs_read_from_names_or_tables() {
        #[derive(Deserialize)]
        struct File {
            objectives: Vec<ObjectiveSpec>,
        }
        let f: File = toml::from_str(
            "objectives = [\"error\", { name = \"latency\", batch_size = 8 }, { name = \"macs\" }]",
        )
        .unwrap();
        assert_eq!(f.objectives[0], ObjectiveSpec::named("error"));
        assert_eq!(f.objectives[1].config["batch_size"], 8);
        assert!(f.objectives[2].config.is_null());
        let e = toml::from_str::<File>("objectives = [3]").err().unwrap();
        assert!(e.message().contains("an objective's name"), "{e}");
        let latency = ObjectiveSpec::with_settings("latency", &LatencySettings::default()).unwrap();
        assert_eq!(latency.config["seq_len"], 128);
        assert!(latency.config.get("threads").is_none());
    }

    #[test]
    fn specs_read_back_as_written() {
        let specs = ObjectiveSpec::parse_list(
            r#"error,params={"count":"dense"},latency={"batch_size":8,"seq_len":64}"#,
        )
        .unwrap();
        let json = serde_json::to_string(&specs).unwrap();
        assert_eq!(
            json,
            r#"["error",{"name":"params","count":"dense"},{"name":"latency","batch_size":8,"seq_len":64}]"#
        );
        let back: Vec<ObjectiveSpec> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, specs);
        for bad in [r#"params=3"#, r#"params={"name":"x"}"#] {
            let spec = ObjectiveSpec::parse(bad).unwrap();
            assert!(serde_json::to_string(&spec).is_err(), "{bad}");
        }
    }
}
