//! The whole method from one typed configuration: fine-tune → search → select → export →
//! evaluate, each stage skipped when its output exists (so running again resumes a killed
//! run; training and search also resume halfway), then the report.
//!
//! The pipeline file (`lopper run FILE`) is [`PipelineConfig`] in TOML: a top-level `out`
//! and one table per stage whose keys are the fields of [`TrainSpec`], [`SearchSpec`],
//! [`Budget`] and [`EvalSpec`]. The pipeline joins the stages itself (folders, the model, the
//! task), so the tables may not set those.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::records::{EvalRecord, FrontMember, Record};
use crate::{
    Budget, EvalSet, EvalSpec, Observers, PipelineError, Result, RunLayout, SearchSpec, TrainSpec,
};

/// A stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fine-tune the super-network.
    Train,
    /// Search it.
    Search,
    /// Choose a member of the front.
    Select,
    /// Export it as a dense model.
    Export,
    /// Score it on the test set.
    Eval,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 5] = [
        Stage::Train,
        Stage::Search,
        Stage::Select,
        Stage::Export,
        Stage::Eval,
    ];

    /// Its name (and its table's).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Train => "train",
            Stage::Search => "search",
            Stage::Select => "select",
            Stage::Export => "export",
            Stage::Eval => "eval",
        }
    }

    /// The keys the pipeline sets itself in this stage's table.
    fn joined(self) -> &'static [&'static str] {
        match self {
            Stage::Train => &["out"],
            Stage::Search => &["out", "train_run"],
            Stage::Select => &["out", "front"],
            Stage::Export => &["out", "model", "subnet"],
            Stage::Eval => &[
                "out",
                "model",
                "subnet",
                "task",
                "data",
                "protocol",
                "split_seed",
                "max_len",
            ],
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[export]` table: the format (the pipeline names the model, the sub-network and the
/// folder).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSpec {
    /// `hf` (the default) or `lopper`: the eval stage runs the exported model, and lopper
    /// runs no ONNX (export that with `lopper export --format onnx`).
    #[serde(default)]
    pub format: crate::ExportFormat,
}

/// The `[baseline]` table: a registered pruning method (`hp`, `rfp`, `ld`, `snas`, or a
/// plugin's) that makes the front in place of the search, and its settings. The `[train]`
/// table is then a `standard` fine-tuning: what HP and RFP prune, and the unpruned network
/// beside the front of every method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineStage {
    /// The method's registered name.
    pub method: String,
    /// Its settings (the keys of its specification).
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// A pipeline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// The run folder (a caller may override it).
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Fine-tuning.
    pub train: TrainSpec,
    /// The search.
    #[serde(default)]
    pub search: SearchSpec,
    /// A baseline in place of the search, if any.
    #[serde(default)]
    pub baseline: Option<BaselineStage>,
    /// The budget the exported sub-network is chosen by.
    #[serde(default)]
    pub select: Budget,
    /// The export.
    #[serde(default)]
    pub export: ExportSpec,
    /// The evaluation of the exported model.
    #[serde(default)]
    pub eval: EvalSpec,
}

impl PipelineConfig {
    /// Parses a pipeline file's text; errors are one line naming the file's line, the table,
    /// the key and what was expected.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let fail = |message: String| PipelineError::Record {
            what: "pipeline file",
            message: format!("{}: {message}", path.display()),
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| fail(one_line(&e, text)))?;
        for stage in Stage::ALL {
            if let Some(toml::Value::Table(t)) = table.get(stage.as_str()) {
                for key in t.keys() {
                    let k = key.replace('-', "_");
                    if stage.joined().contains(&k.as_str()) {
                        return Err(fail(format!(
                            "[{stage}] `{key}`: the pipeline sets this itself"
                        )));
                    }
                }
            }
        }
        toml::from_str(text).map_err(|e| fail(one_line(&e, text)))
    }

    /// Reads a pipeline file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Checks what can be checked before the first stage runs.
    pub fn check(&self) -> Result<()> {
        self.train.check()?;
        self.search.check()?;
        if let Some(b) = &self.baseline {
            if b.method == "ws-nas" {
                return Err(PipelineError::setting(
                    "[baseline] method",
                    "a baseline: WS-NAS is the pipeline without a [baseline] table",
                ));
            }
            crate::build_pruning_method(&b.method, &b.settings)?;
            if self.train.strategy != lopper_train::StrategyKind::Standard {
                return Err(PipelineError::setting(
                    "[train] strategy",
                    "\"standard\" with a [baseline]: the fine-tuned network it prunes and compares with",
                ));
            }
        }
        if self.select.is_empty() {
            return Err(PipelineError::NoBudget);
        }
        if self.export.format == crate::ExportFormat::Onnx {
            return Err(PipelineError::setting(
                "[export] format",
                "\"hf\" or \"lopper\": the eval stage runs the exported model and lopper runs no \
                 ONNX; export the selected member with `lopper export --format onnx`",
            ));
        }
        if self.train.protocol == lopper_data::ProtocolKind::Plain && self.eval.set == EvalSet::Test
        {
            return Err(PipelineError::setting(
                "[eval] set",
                "\"validation\": the plain protocol has no test set",
            ));
        }
        Ok(())
    }
}

/// A TOML error as one line: `line N: [table] message`.
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().replace('\n', " ");
    let Some(span) = e.span() else {
        return message;
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| format!("{} ", l.split(']').next().unwrap_or(l).to_string() + "]"))
        .unwrap_or_default();
    format!("line {line}: {table}{message}")
}

/// Where a stage stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagePlan {
    /// The stage.
    pub stage: Stage,
    /// The file whose presence says it is done.
    pub output: PathBuf,
    /// Whether it is.
    pub done: bool,
}

/// What a finished pipeline produced.
#[derive(Debug)]
pub struct PipelineOutcome {
    /// The member chosen and exported.
    pub selected: FrontMember,
    /// Its figures.
    pub eval: EvalRecord,
    /// The report's files, or why there is none.
    pub report: Result<(PathBuf, PathBuf)>,
}

/// A pipeline and its run folder.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The configuration.
    pub config: PipelineConfig,
    /// The run folder.
    pub layout: RunLayout,
    /// The file's text, copied into the run folder.
    source: Option<String>,
}

impl Pipeline {
    /// A pipeline into `out`.
    pub fn new(config: PipelineConfig, out: impl Into<PathBuf>) -> Self {
        Self {
            config,
            layout: RunLayout::new(out),
            source: None,
        }
    }

    /// The pipeline of a file, into `out` or else the file's `out`.
    pub fn from_file(path: &Path, out: Option<&Path>) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
        let config = PipelineConfig::parse(&text, path)?;
        let out = match (out, &config.out) {
            (Some(o), _) => o.to_path_buf(),
            (None, Some(o)) => o.clone(),
            (None, None) => {
                return Err(PipelineError::setting("out", "a run folder (or pass one)"));
            }
        };
        Ok(Self {
            source: Some(text),
            ..Self::new(config, out)
        })
    }

    /// Each stage's output and whether it exists.
    pub fn plan(&self) -> Vec<StagePlan> {
        let l = &self.layout;
        Stage::ALL
            .into_iter()
            .map(|stage| {
                let output = match stage {
                    Stage::Train => l.train().summary(),
                    Stage::Search => l.search().front(),
                    Stage::Select => l.selected(),
                    Stage::Export => l.export().join("config.json"),
                    Stage::Eval => l.eval(),
                };
                StagePlan {
                    stage,
                    done: output.exists(),
                    output,
                }
            })
            .collect()
    }

    /// Runs the stages that are not done, then writes the report.
    pub fn run(&self, observers: &dyn Observers) -> Result<PipelineOutcome> {
        self.config.check()?;
        let l = &self.layout;
        let root = l.root();
        std::fs::create_dir_all(root).map_err(|e| PipelineError::io(root, e))?;
        if let Some(text) = &self.source {
            let copy = l.config();
            lopper_core::fs::write_atomic(&copy, text.as_bytes())
                .map_err(|e| PipelineError::io(&copy, e))?;
        }
        let plan = self.plan();
        let todo = |stage: Stage| {
            let p = &plan[stage as usize];
            observers.stage(stage, &p.output, p.done);
            !p.done
        };
        let (train_dir, search_dir) = (l.train(), l.search());
        if todo(Stage::Train) {
            let outcome = crate::train(&self.config.train, &train_dir, observers)?;
            observers.trained(&outcome, train_dir.path());
        }
        if todo(Stage::Search) {
            match &self.config.baseline {
                None => {
                    let outcome =
                        crate::search(&self.config.search, &train_dir, &search_dir, observers)?;
                    observers.searched(&outcome, search_dir.path());
                }
                Some(b) => {
                    observers.message(&format!("baseline `{}` in place of the search", b.method));
                    let method = crate::build_pruning_method(&b.method, &b.settings)?;
                    let input = crate::PruningInput {
                        fine_tuned: Some(train_dir.clone()),
                        train: Some(self.config.train.clone()),
                    };
                    method.prune(&input, &search_dir, observers)?;
                }
            }
        }
        if todo(Stage::Select) {
            let front = crate::FrontFile::read(&search_dir.front())?;
            let member = crate::select(&front, &self.config.select)?;
            member.write(&l.selected())?;
            observers.selected(member);
        }
        let selected = FrontMember::read(&l.selected())?;
        if todo(Stage::Export) {
            let best = train_dir.checkpoint(self.config.search.checkpoint);
            let model = selected.model_or(&best.display().to_string());
            let exported = crate::export(
                &model,
                &selected.subnet,
                &l.export(),
                self.config.export.format,
            )?;
            observers.exported(&exported);
        }
        let eval = if todo(Stage::Eval) {
            let spec = EvalSpec {
                max_len: self.config.train.max_len,
                ..self.config.eval.clone()
            };
            let model = l.export().display().to_string();
            let mut record = crate::evaluate(&model, None, &self.config.train.data_spec(), &spec)?;
            // The unpruned network beside it, for the report's first table.
            let summary = crate::TrainSummary::read(&train_dir.summary())?;
            let score = match spec.set {
                EvalSet::Test => summary
                    .test
                    .as_ref()
                    .and_then(|t| t.get("largest"))
                    .map(|t| t.score),
                _ => None,
            };
            let best = train_dir.checkpoint(self.config.search.checkpoint);
            record.unpruned = Some(crate::export::unpruned_figures(
                &best,
                score,
                &spec.latency,
            )?);
            record.write(&l.eval())?;
            observers.evaluated(&record);
            record
        } else {
            EvalRecord::read(&l.eval())?
        };
        Ok(PipelineOutcome {
            selected,
            eval,
            report: crate::report::write_report(root),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const BASE: &str = "out = \"o\"\n[train]\ntask = \"rte\"\ndata = \"d\"\nmodel = \"m\"\n[select]\nmax_params = 0.5\n";

    #[test]
    fn a_pipeline_file_is_typed() {
        let text = format!(
            "{BASE}[search]\nobjectives = [\"error\", {{ name = \"latency\", batch_size = 8 }}]\n[eval]\nlatency = {{ batch_size = 2, seq_len = 32 }}\n"
        );
        let c = PipelineConfig::parse(&text, Path::new("p.toml")).unwrap();
        assert_eq!(c.train.lr, 2e-5);
        assert_eq!(c.search.objectives[1].name, "latency");
        assert_eq!(c.search.objectives[1].config["batch_size"], 8);
        assert_eq!(c.eval.latency.batch_size, 2);
        assert_eq!(c.select.max_params, Some(0.5));
        c.check().unwrap();
    }

    #[test]
    fn the_export_format_is_hf_unless_said() {
        let c = PipelineConfig::parse(BASE, Path::new("p.toml")).unwrap();
        assert_eq!(c.export.format, crate::ExportFormat::Hf);
        c.check().unwrap();
        let lopper = format!("{BASE}[export]\nformat = \"lopper\"\n");
        let c = PipelineConfig::parse(&lopper, Path::new("p.toml")).unwrap();
        assert_eq!(c.export.format, crate::ExportFormat::Lopper);
        // The eval stage runs the export, and lopper runs no ONNX.
        let onnx = format!("{BASE}[export]\nformat = \"onnx\"\n");
        let err = PipelineConfig::parse(&onnx, Path::new("p.toml"))
            .unwrap()
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[export] format") && err.contains("lopper export --format onnx"),
            "{err}"
        );
        let bad = format!("{BASE}[export]\nformat = \"tflite\"\n");
        assert!(PipelineConfig::parse(&bad, Path::new("p.toml")).is_err());
    }

    #[test]
    fn your_own_task_is_a_table() {
        let text = "out = \"o\"\n[train]\ndata = \"reviews.csv\"\nmodel = \"m\"\n[train.task]\nkind = \"classification\"\ntext_columns = [\"body\"]\nlabel_column = \"stars\"\ntest_split = \"none\"\n[select]\nmax_params = 0.5\n";
        let c = PipelineConfig::parse(text, Path::new("p.toml")).unwrap();
        let own = c.train.task.own().unwrap();
        assert_eq!(own.text_columns, ["body"]);
        assert_eq!(own.test_split, Some(lopper_data::TestSplit::None));
        // A kind without its columns, or a key the table lacks, is one line.
        let bare = text.replace("text_columns = [\"body\"]\n", "");
        let err = PipelineConfig::parse(&bare, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("text_columns"), "{err}");
        let named = "out = \"o\"\n[train]\ntask = \"regression\"\ndata = \"d\"\nmodel = \"m\"\n";
        let err = PipelineConfig::parse(named, Path::new("p.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs its columns"), "{err}");
    }

    #[test]
    fn a_baseline_takes_the_place_of_the_search() {
        let standard = BASE.replace(
            "model = \"m\"\n",
            "model = \"m\"\nstrategy = \"standard\"\n",
        );
        let text = format!("{standard}[baseline]\nmethod = \"rfp\"\nbudgets = [0.9, 0.7]\n");
        let c = PipelineConfig::parse(&text, Path::new("p.toml")).unwrap();
        let b = c.baseline.as_ref().unwrap();
        assert_eq!(b.method, "rfp");
        assert_eq!(b.settings["budgets"].as_array().unwrap().len(), 2);
        c.check().unwrap();
        // An unknown method lists the known ones; a bad key names the method.
        let bad = format!("{standard}[baseline]\nmethod = \"rpf\"\n");
        let e = PipelineConfig::parse(&bad, Path::new("p.toml"))
            .unwrap()
            .check()
            .unwrap_err();
        assert!(
            e.to_string().contains("rfp") && e.to_string().contains("rpf"),
            "{e}"
        );
        let bad = format!("{standard}[baseline]\nmethod = \"rfp\"\nbudgts = [0.9]\n");
        let e = PipelineConfig::parse(&bad, Path::new("p.toml"))
            .unwrap()
            .check()
            .unwrap_err();
        assert!(
            e.to_string().contains("`rfp`") && e.to_string().contains("budgts"),
            "{e}"
        );
        // The fine-tuning a baseline prunes is a standard one.
        let e = PipelineConfig::parse(
            &format!("{BASE}[baseline]\nmethod = \"hp\"\n"),
            Path::new("p.toml"),
        )
        .unwrap()
        .check()
        .unwrap_err();
        assert!(e.to_string().contains("standard"), "{e}");
    }

    #[test]
    fn bad_keys_are_one_line_naming_table_key_and_expectation() {
        let e = PipelineConfig::parse(
            &format!("{BASE}[search]\nbudgte = 3\n"),
            Path::new("p.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("p.toml: line 9: [search] unknown field `budgte`, expected one of"),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let e = PipelineConfig::parse(
            &format!("{BASE}[search]\nbudget = \"many\"\n"),
            Path::new("p.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("[search]") && e.contains("expected usize"),
            "{e}"
        );
        let e = PipelineConfig::parse(
            &format!("{BASE}[eval]\nmodel = \"x\"\n"),
            Path::new("p.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("[eval] `model`: the pipeline sets this itself"),
            "{e}"
        );
    }
}
