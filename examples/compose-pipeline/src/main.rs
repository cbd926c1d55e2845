//! The lopper pipeline composed in Rust, stage by stage: fine-tune a super-network on a task,
//! search it with an optimizer chosen by name and one objective defined here, pick the
//! lowest-error sub-network under a parameter budget, export it as a dense model and score
//! it on the test set.
//!
//! ```text
//! cargo run -p compose-pipeline -- MODEL_DIR MOVIE_REVIEWS_DIR OUT_DIR
//! ```
//!
//! (`scripts/fetch-minilm.sh` and `scripts/fetch-movie-reviews.sh` print the two folders.)
//! The budget is tiny so that it runs in seconds; raise the limits for a real run.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lopper::core::{Objective, Subnet};
use lopper::model::Network;
use lopper::pipeline::{
    Budget, DataSpec, EvalSpec, Record, SearchDir, SearchSpec, Silent, TrainDir, TrainSpec,
};
use lopper::prune::{ObjectiveContext, ObjectivePlugin, ObjectiveSpec, SubnetObjective, Value};

/// An objective of our own: the share of attention heads a sub-network keeps.
struct HeadShare {
    total: usize,
}

impl SubnetObjective for HeadShare {
    fn objective(&self) -> Objective {
        Objective::minimize("heads", "fraction")
    }

    fn measure(&self, _net: &dyn Network, subnet: &Subnet) -> lopper::prune::Result<Value> {
        Ok(Value::plain(
            subnet.total_heads() as f64 / self.total as f64,
        ))
    }
}

fn build_head_share(
    ctx: &ObjectiveContext,
    _settings: &serde_json::Value,
) -> lopper::prune::Result<Box<dyn SubnetObjective>> {
    let arch = ctx.config.arch();
    Ok(Box::new(HeadShare {
        total: (arch.num_layers * arch.num_heads).max(1),
    }))
}

// Registered by name, as the built-in objectives are: a search names it like any other.
lopper::core::inventory::submit! {
    ObjectivePlugin {
        name: "heads",
        summary: "the share of attention heads kept (compose-pipeline's own objective)",
        build: build_head_share,
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(model), Some(data), Some(out)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: compose-pipeline MODEL_DIR MOVIE_REVIEWS_DIR OUT_DIR");
    };
    let task = "movie-reviews".parse()?;
    let data = DataSpec::new(task, data);

    // Stage one: fine-tune the super-network (sandwich rule with in-place distillation).
    let mut train = TrainSpec::new(data.clone(), model.display().to_string());
    train.train_limit = Some(16);
    train.validation_limit = Some(24);
    train.test_limit = Some(40);
    train.epochs = 1;
    train.batch_size = 8;
    train.lr = 1e-4;
    train.max_len = 32;
    let train_dir = TrainDir::new(out.join("train"));
    let trained = lopper::pipeline::train(&train, &train_dir, &Silent)?;
    println!(
        "trained {} steps; test accuracy of the full network {:.4}",
        trained.summary.steps,
        trained
            .summary
            .test
            .as_ref()
            .and_then(|t| t.get("largest"))
            .map_or(f64::NAN, |t| t.score)
    );

    // Stage two: search with NSGA-II for validation error, parameters and our own objective.
    let search = SearchSpec {
        optimizer: "nsga2".into(),
        objectives: vec![
            ObjectiveSpec::named("error"),
            ObjectiveSpec::named("params"),
            ObjectiveSpec::named("heads"),
        ],
        budget: 6,
        initial_design: true,
        ..SearchSpec::default()
    };
    let search_dir = SearchDir::new(out.join("search"));
    let searched = lopper::pipeline::search(&search, &train_dir, &search_dir, &Silent)?;
    println!(
        "{} evaluations, {} on the front",
        searched.evaluations,
        searched.front.front.len()
    );

    // Select under a parameter budget, export the dense model, score it on the test set.
    let budget = Budget {
        max_params: Some(0.9),
        ..Budget::default()
    };
    let chosen = lopper::pipeline::select(&searched.front, &budget)
        .context("selecting under 90 % of the parameters")?;
    chosen.write(&out.join("selected.json"))?;
    let best = train_dir.checkpoint(lopper::pipeline::Checkpoint::Best);
    let exported = lopper::pipeline::export(
        &best.display().to_string(),
        &chosen.subnet,
        &out.join("export"),
        lopper::pipeline::ExportFormat::Hf,
    )?;
    let eval = EvalSpec {
        max_len: train.max_len,
        limit: Some(40),
        latency: lopper::prune::LatencySettings {
            batch_size: 2,
            seq_len: 32,
            warmup: 1,
            repetitions: 3,
            threads: None,
        },
        ..EvalSpec::default()
    };
    let figures =
        lopper::pipeline::evaluate(&exported.dir.display().to_string(), None, &data, &eval)?;
    figures.write(&out.join("eval.json"))?;
    println!(
        "selected {} ({} parameters, {:.1} % of {}): test {} {:.4}, latency {:.2} ms",
        chosen.summary,
        exported.params,
        100.0 * exported.params as f64 / exported.full_params as f64,
        exported.full_params,
        figures.metric,
        figures.score,
        figures.latency_ms.median
    );
    Ok(())
}
