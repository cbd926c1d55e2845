//! `lopper select`: flags into a [`Budget`].

use std::path::PathBuf;

use anyhow::Result;
use lopper::pipeline::{Budget, FrontFile, FrontMember, Record, SearchDir};

/// Flags of `lopper select`.
#[derive(clap::Args, Debug)]
pub struct SelectArgs {
    /// A `lopper search` output folder, or its front.json.
    pub front: PathBuf,
    /// At most this fraction of the full model's parameters (the `params` objective).
    #[arg(long, value_name = "FRACTION")]
    pub max_params: Option<f64>,
    /// At most this median latency (the `latency` objective).
    #[arg(long, value_name = "MS")]
    pub max_latency_ms: Option<f64>,
    /// At most this many multiply-accumulates (the `macs` objective).
    #[arg(long, value_name = "N")]
    pub max_macs: Option<f64>,
    /// At most this much more validation error than the unpruned network; among those, the
    /// smallest by the front's second objective.
    #[arg(long, value_name = "DELTA")]
    pub max_error_increase: Option<f64>,
    /// Also write the chosen member's JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `lopper select`: prints the chosen member as JSON.
pub fn run(args: &SelectArgs) -> Result<()> {
    let path = if args.front.is_dir() {
        SearchDir::new(&args.front).front()
    } else {
        args.front.clone()
    };
    let front = FrontFile::read(&path)?;
    let budget = Budget {
        max_params: args.max_params,
        max_latency_ms: args.max_latency_ms,
        max_macs: args.max_macs,
        max_error_increase: args.max_error_increase,
    };
    let m = lopper::pipeline::select(&front, &budget)?;
    if let Some(out) = &args.out {
        m.write(out)?;
    }
    print(m)
}

/// What a selection prints: the member on standard output, its summary on standard error.
pub fn print(m: &FrontMember) -> Result<()> {
    eprintln!("lopper: selected trial {}: {}", m.id, m.summary);
    println!("{}", serde_json::to_string_pretty(m)?);
    Ok(())
}
