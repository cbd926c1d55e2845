//! `lopper baseline`: the paper's baselines, each writing a front as `lopper search` does.

use std::path::{Path, PathBuf};

use anyhow::Result;
use lopper::pipeline::{
    FrontFile, HeadPruningSpec, LayerDroppingSpec, PruningInput, PruningMethod, Record, RfpSpec,
    RfpTrace, SearchDir, SnasSpec, TestScores, TrainDir, TrainSpec,
};

use crate::progress::Bars;

/// The baselines.
#[derive(clap::Subcommand, Debug)]
pub enum BaselineCommand {
    /// HP: Michel et al.'s head pruning of a fine-tuned checkpoint (a `standard` training
    /// run): head importance from gradients of the loss w.r.t. head masks, the least important
    /// share of the remaining heads masked step by step, no retraining; every step a member.
    Hp(Box<FineTunedArgs<HeadPruningSpec>>),
    /// RFP: Kwon et al.'s retraining-free pruning of a fine-tuned checkpoint (a `standard`
    /// training run): Fisher importance of heads and units, mask search under a parameter or
    /// MAC budget, mask rearrangement, least-squares mask tuning; one member per budget.
    Rfp(Box<FineTunedArgs<RfpSpec>>),
    /// LD: Sajjad et al.'s layer dropping: the top n layers of the pre-trained model dropped
    /// and the rest fine-tuned on the task (the `lopper train` flags, strategy `standard`),
    /// one member per n (default 1 … L−1).
    Ld(Box<PretrainedArgs<LayerDroppingSpec>>),
    /// S-NAS: standard NAS: every candidate of the space (--space) cut out of the pre-trained
    /// model and fine-tuned on its own for up to --epochs (the `lopper train` flags, strategy
    /// `standard`), its validation error after each epoch reported to MO-ASHA, candidates
    /// asked by an optimizer plugin; a trial's result is its best epoch.
    Snas(Box<PretrainedArgs<SnasSpec>>),
}

/// Flags of a baseline that fine-tunes the pre-trained model.
#[derive(clap::Args, Debug)]
pub struct PretrainedArgs<S: clap::Args> {
    #[command(flatten)]
    pub train: TrainSpec,
    #[command(flatten)]
    pub own: crate::train::OwnTaskFlags,
    #[command(flatten)]
    pub spec: S,
    /// A finished `standard` fine-tuning of the same model and task, the unpruned network
    /// beside the front (default: fine-tuned here the same way).
    #[arg(long, value_name = "DIR")]
    pub fine_tuned: Option<PathBuf>,
    /// Output folder: front.json and front.csv in the format of `lopper search`, and the
    /// method's fine-tuning runs (members/ for LD, trials/ for S-NAS). Running again resumes
    /// it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bars or messages.
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of a baseline that prunes a fine-tuned network.
#[derive(clap::Args, Debug)]
pub struct FineTunedArgs<S: clap::Args> {
    /// The folder of a `lopper train` run (a `standard` fine-tuning): its task, data, split
    /// and checkpoint are used.
    #[arg(long, value_name = "DIR")]
    pub train_run: PathBuf,
    #[command(flatten)]
    pub spec: S,
    /// Output folder: front.json and front.csv in the format of `lopper search`, which
    /// `lopper select`, `export` and `eval` take. Running again resumes it.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bars or messages.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `lopper baseline …`.
pub fn run(command: &BaselineCommand) -> Result<()> {
    match command {
        BaselineCommand::Hp(args) => fine_tuned(&args.spec, args, "one member per step"),
        BaselineCommand::Rfp(args) => {
            fine_tuned(&args.spec, args, "one member per budget")?;
            print_rfp(&args.train_run, &SearchDir::new(&args.out))
        }
        BaselineCommand::Ld(args) => pretrained(&args.spec, args, "one member per drop"),
        BaselineCommand::Snas(args) => pretrained(&args.spec, args, "the non-dominated trials"),
    }
}

fn pretrained<S: clap::Args>(
    method: &dyn PruningMethod,
    args: &PretrainedArgs<S>,
    what: &str,
) -> Result<()> {
    let dir = SearchDir::new(&args.out);
    let input = PruningInput {
        fine_tuned: args.fine_tuned.as_ref().map(TrainDir::new),
        train: Some(args.own.train_spec(&args.train)?),
    };
    let front = method.prune(&input, &dir, &Bars::new(!args.quiet))?;
    print(&front, what, &dir)
}

fn fine_tuned<S: clap::Args>(
    method: &dyn PruningMethod,
    args: &FineTunedArgs<S>,
    what: &str,
) -> Result<()> {
    let dir = SearchDir::new(&args.out);
    let input = PruningInput {
        fine_tuned: Some(TrainDir::new(&args.train_run)),
        train: None,
    };
    let front = method.prune(&input, &dir, &Bars::new(!args.quiet))?;
    print(&front, what, &dir)
}

/// RFP's steps per budget (`rfp.json`) beside the unpruned network's test metrics.
fn print_rfp(train_run: &Path, dir: &SearchDir) -> Result<()> {
    let trace = RfpTrace::read(&dir.path().join("rfp.json"))?;
    let unpruned = TestScores::read(&TrainDir::new(train_run).test()).ok();
    let metrics: Vec<String> = trace
        .budgets
        .iter()
        .flat_map(|b| &b.stages)
        .next()
        .map(|s| s.test.iter().map(|(m, _)| m.clone()).collect())
        .unwrap_or_default();
    println!(
        "RFP under {} ({} examples, {:.1} tokens on average; Fisher {:.0} s):",
        trace.constraint, trace.sample, trace.mean_tokens, trace.fisher_seconds
    );
    println!(
        "{:<8} {:<10} {:>6} {:>6} {:>6} {}  seconds",
        "budget",
        "step",
        "heads",
        "units",
        "cost",
        metrics
            .iter()
            .map(|m| format!("{m:>9}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(u) = unpruned.as_ref().and_then(|t| t.get("largest")) {
        let values: Vec<String> = metrics
            .iter()
            .map(|m| {
                let v = u.values.iter().find(|(n, _)| n == m).map(|p| p.1);
                v.map_or(format!("{:>9}", "-"), |v| format!("{v:>9.4}"))
            })
            .collect();
        println!(
            "{:<8} {:<10} {:>6} {:>6} {:>6.3} {}",
            "1",
            "unpruned",
            "",
            "",
            1.0,
            values.join(" ")
        );
    }
    for b in &trace.budgets {
        if b.stages.is_empty() {
            println!("{:<8} below what no mask removes: no member", b.fraction);
        }
        for s in &b.stages {
            let values: Vec<String> = s.test.iter().map(|(_, v)| format!("{v:>9.4}")).collect();
            println!(
                "{:<8} {:<10} {:>6} {:>6} {:>6.3} {}  {:.1}",
                b.fraction,
                format!("{:?}", s.step).to_lowercase(),
                s.heads.iter().sum::<usize>(),
                s.units.iter().sum::<usize>(),
                s.cost_fraction,
                values.join(" "),
                s.seconds
            );
        }
        for k in &b.skipped {
            println!(
                "{:<8} not tuned: layer {} {:?} ({})",
                b.fraction, k.layer, k.block, k.reason
            );
        }
    }
    Ok(())
}

fn print(front: &FrontFile, what: &str, dir: &SearchDir) -> Result<()> {
    println!("front of {} ({what}):", front.front.len());
    print!("{}", lopper::pipeline::front_csv(front)?);
    println!("written: {}", dir.path().display());
    Ok(())
}
