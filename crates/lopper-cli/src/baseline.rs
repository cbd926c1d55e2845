//! `lopper baseline`: the paper's baselines, each writing a front as `lopper search` does.

use std::path::PathBuf;

use anyhow::Result;
use lopper::pipeline::{HeadPruningSpec, SearchDir, TrainDir};

use crate::progress::Bars;

/// The baselines.
#[derive(clap::Subcommand, Debug)]
pub enum BaselineCommand {
    /// HP: Michel et al.'s head pruning of a fine-tuned checkpoint (a `standard` training
    /// run): head importance from gradients of the loss w.r.t. head masks, the least important
    /// share of the remaining heads masked step by step, no retraining; every step a member.
    Hp(Box<HpArgs>),
}

/// Flags of `lopper baseline hp`.
#[derive(clap::Args, Debug)]
pub struct HpArgs {
    /// The folder of a `lopper train` run (a `standard` fine-tuning): its task, data, split
    /// and checkpoint are used.
    #[arg(long, value_name = "DIR")]
    pub train_run: PathBuf,
    #[command(flatten)]
    pub spec: HeadPruningSpec,
    /// Output folder: front.json and front.csv in the format of `lopper search`, which
    /// `lopper select`, `export` and `eval` take.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress messages.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `lopper baseline …`.
pub fn run(command: &BaselineCommand) -> Result<()> {
    match command {
        BaselineCommand::Hp(args) => {
            let dir = SearchDir::new(&args.out);
            let front = lopper::pipeline::head_pruning(
                &args.spec,
                &TrainDir::new(&args.train_run),
                &dir,
                &Bars { show: !args.quiet },
            )?;
            println!("front of {} (one member per step):", front.front.len());
            print!("{}", lopper::pipeline::front_csv(&front)?);
            println!("written: {}", dir.path().display());
            Ok(())
        }
    }
}
