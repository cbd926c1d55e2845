//! `lopper select`: flags into a [`Budget`].

use std::path::PathBuf;

use anyhow::Result;
use lopper::pipeline::{Budget, FrontFile, FrontMember, Record, SearchDir};

/// Flags of `lopper select`.
#[derive(clap::Args, Debug)]
pub struct SelectArgs {
    /// A `lopper search` output folder, or its front.json.
    pub front: PathBuf,
    #[command(flatten)]
    pub budget: Budget,
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
    let m = lopper::pipeline::select(&front, &args.budget)?;
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
