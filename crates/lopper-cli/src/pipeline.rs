//! `lopper run pipeline.toml`: the whole method from one file — fine-tune a super-network,
//! search it, select a sub-network, export it as a dense model and score it on the test set.
//!
//! The file has a top-level `out` (the run folder) and one table per stage, `[train]`,
//! `[search]`, `[select]`, `[export]` and `[eval]`, whose keys are the long flags of the
//! stage's command with `_` or `-` (`train_limit = 3000` is `--train-limit 3000`; `true`
//! passes a switch). The pipeline fills in the flags that join the stages (the folders, the
//! model, the task), so a stage table may not set those. Every stage writes into the run
//! folder and is skipped when its output is there, so running the same file again resumes a
//! killed run:
//!
//! | stage | command | output (skip when present) |
//! |---|---|---|
//! | train | `lopper train --out OUT/train` | `OUT/train/summary.json` |
//! | search | `lopper search --train-run OUT/train --out OUT/search` | `OUT/search/front.json` |
//! | select | `lopper select OUT/search --out OUT/selected.json` | `OUT/selected.json` |
//! | export | `lopper export --model OUT/train/best --subnet @OUT/selected.json --out OUT/export` | `OUT/export/config.json` |
//! | eval | `lopper eval --model OUT/export --out OUT/eval.json` | `OUT/eval.json` |
//!
//! Train and search resume on their own when killed halfway.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, FromArgMatches, Parser};

use crate::{eval, export, search, select, train};

/// Flags of `lopper run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The pipeline file (see `examples/*.toml`).
    pub config: PathBuf,
    /// The run folder (overrides the file's `out`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Check the file (every stage's flags) and print the stages with their state; run
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// One stage's flags, parsed by clap exactly as on the command line.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct Flags<T: clap::Args> {
    #[command(flatten)]
    args: T,
}

/// Turns a stage's table into command-line flags.
fn flags(stage: &str, table: &toml::Table, fixed: &[(&str, String)]) -> Result<Vec<String>> {
    let mut argv = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        if fixed.iter().any(|(f, _)| *f == flag) {
            bail!("[{stage}] `{key}`: the pipeline sets this itself");
        }
        match value {
            toml::Value::String(s) => argv.extend([format!("--{flag}"), s.clone()]),
            toml::Value::Integer(i) => argv.extend([format!("--{flag}"), i.to_string()]),
            toml::Value::Float(x) => argv.extend([format!("--{flag}"), x.to_string()]),
            toml::Value::Boolean(true) => argv.push(format!("--{flag}")),
            toml::Value::Boolean(false) => {}
            other => bail!(
                "[{stage}] `{key}`: expected text, a number or a boolean, found {}",
                other.type_str()
            ),
        }
    }
    for (flag, value) in fixed {
        if flag.starts_with('@') {
            argv.push(value.clone()); // a positional argument
        } else {
            argv.extend([format!("--{flag}"), value.clone()]);
        }
    }
    Ok(argv)
}

/// Parses a stage's flags into its command's arguments.
fn parse<T: clap::Args>(stage: &str, argv: Vec<String>) -> Result<T> {
    let matches = Flags::<T>::command()
        .try_get_matches_from(&argv)
        .map_err(|e| anyhow::anyhow!("[{stage}]: {}", e.render().to_string().trim()))?;
    Ok(Flags::<T>::from_arg_matches(&matches)
        .map_err(|e| anyhow::anyhow!("[{stage}]: {e}"))?
        .args)
}

fn table<'a>(doc: &'a toml::Table, stage: &str) -> Result<Option<&'a toml::Table>> {
    match doc.get(stage) {
        None => Ok(None),
        Some(toml::Value::Table(t)) => Ok(Some(t)),
        Some(_) => bail!("`{stage}` must be a table ([{stage}])"),
    }
}

fn skip(stage: &str, done: &Path, dry_run: bool) -> bool {
    let skip = done.exists();
    if dry_run {
        let state = if skip { "done" } else { "to run" };
        println!("{stage:<7} {state:<7} (output: {})", done.display());
        return true;
    }
    if skip {
        eprintln!("lopper: {stage}: done ({} exists), skipped", done.display());
    } else {
        eprintln!("lopper: === {stage} ===");
    }
    skip
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Runs `lopper run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read {}", args.config.display()))?;
    let doc: toml::Table = toml::from_str(&text)
        .with_context(|| format!("{}: not a valid TOML file", args.config.display()))?;
    for key in doc.keys() {
        if !["out", "train", "search", "select", "export", "eval"].contains(&key.as_str()) {
            bail!(
                "{}: unknown key `{key}` (expected out, [train], [search], [select], [export], [eval])",
                args.config.display()
            );
        }
    }
    let out = match (&args.out, doc.get("out")) {
        (Some(o), _) => o.clone(),
        (None, Some(toml::Value::String(o))) => PathBuf::from(o),
        (None, Some(_)) => bail!("{}: `out` must be text", args.config.display()),
        (None, None) => bail!("{}: no `out` folder (or pass --out)", args.config.display()),
    };
    let train_table = table(&doc, "train")?
        .with_context(|| format!("{}: no [train] table", args.config.display()))?;
    let empty = toml::Table::new();
    let quiet = |mut argv: Vec<String>| {
        if args.quiet {
            argv.push("--quiet".into());
        }
        argv
    };

    // Every stage's flags are checked before the first one runs.
    let (train_dir, search_dir) = (out.join("train"), out.join("search"));
    let (selected, export_dir) = (out.join("selected.json"), out.join("export"));
    let train_args: train::TrainArgs = parse(
        "train",
        quiet(flags("train", train_table, &[("out", path(&train_dir))])?),
    )?;
    let search_args: search::SearchArgs = parse(
        "search",
        quiet(flags(
            "search",
            table(&doc, "search")?.unwrap_or(&empty),
            &[("train-run", path(&train_dir)), ("out", path(&search_dir))],
        )?),
    )?;
    let select_args: select::SelectArgs = parse(
        "select",
        flags(
            "select",
            table(&doc, "select")?.unwrap_or(&empty),
            &[("@front", path(&search_dir)), ("out", path(&selected))],
        )?,
    )?;
    let export_args: export::ExportArgs = parse(
        "export",
        flags(
            "export",
            table(&doc, "export")?.unwrap_or(&empty),
            &[
                ("model", path(&train_dir.join("best"))),
                ("subnet", format!("@{}", selected.display())),
                ("out", path(&export_dir)),
            ],
        )?,
    )?;
    let eval_args: eval::EvalArgs = parse(
        "eval",
        flags(
            "eval",
            table(&doc, "eval")?.unwrap_or(&empty),
            &[
                ("model", path(&export_dir)),
                ("task", train_args.task.clone()),
                ("data", path(&train_args.data)),
                (
                    "protocol",
                    format!("{:?}", train_args.protocol).to_lowercase(),
                ),
                ("split-seed", train_args.split_seed.to_string()),
                ("max-len", train_args.max_len.to_string()),
                ("out", path(&out.join("eval.json"))),
            ],
        )?,
    )?;
    if matches!(train_args.protocol, train::ProtocolArg::Plain)
        && matches!(eval_args.set, eval::SetArg::Test)
    {
        bail!("[eval]: the plain protocol has no test set; set `set = \"validation\"`");
    }

    let dry = args.dry_run;
    if !dry {
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let copy = out.join("pipeline.toml");
        std::fs::write(&copy, &text).with_context(|| format!("cannot write {}", copy.display()))?;
    }
    if !skip("train", &train_dir.join("summary.json"), dry) {
        train::run(&train_args)?;
    }
    if !skip("search", &search_dir.join("front.json"), dry) {
        search::run(&search_args)?;
    }
    if !skip("select", &selected, dry) {
        select::run(&select_args)?;
    }
    if !skip("export", &export_dir.join("config.json"), dry) {
        export::run(&export_args)?;
    }
    if !skip("eval", &out.join("eval.json"), dry) {
        eval::run(&eval_args)?;
    }
    if dry {
        return Ok(());
    }
    match lopper::report::write_report(&out) {
        Ok((md, html)) => println!("report: {} and {}", md.display(), html.display()),
        Err(e) => eprintln!("lopper: warning: no report: {e}"),
    }
    println!("pipeline done: {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_become_flags() {
        let t: toml::Table = toml::from_str(
            "train_limit = 30\nlr = 5e-5\ninitial-design = true\nquiet = false\ntask = \"rte\"",
        )
        .unwrap();
        let argv = flags("train", &t, &[("out", "o".into()), ("@front", "f".into())]).unwrap();
        assert_eq!(
            argv,
            [
                "--initial-design",
                "--lr",
                "0.00005",
                "--task",
                "rte",
                "--train-limit",
                "30",
                "--out",
                "o",
                "f"
            ]
        );
        let err = flags("train", &t, &[("task", "x".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sets this itself"), "{err}");
        let bad: toml::Table = toml::from_str("epochs = [1, 2]").unwrap();
        assert!(flags("train", &bad, &[]).is_err());
    }

    #[test]
    fn unknown_flags_name_the_stage() {
        let err = parse::<select::SelectArgs>("select", vec!["f".into(), "--max-parms".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("[select]:") && err.contains("--max-parms"),
            "{err}"
        );
    }
}
