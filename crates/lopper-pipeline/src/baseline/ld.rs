//! LD, layer dropping (Sajjad et al., "On the Effect of Dropping Layers of Pre-trained
//! Transformer Models", 2022): drop the top `n` layers of the pre-trained model and fine-tune
//! what is left on the task, one member per `n`.

use lopper_core::{LayerKeep, Subnet};
use lopper_model::{EncoderConfig, resolve_model};
use serde::{Deserialize, Serialize};

use super::{
    BaselineRecord, BaselineSettings, PruningInput, PruningMethod, claim_folder, member_of_run,
    write_baseline_front,
};
use crate::records::{FrontFile, FullNetwork};
use crate::{Observers, PipelineError, Result, SearchDir, TrainDir, TrainSpec};

/// How to run layer dropping.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct LayerDroppingSpec {
    /// How many top layers each member drops (comma-separated; default 1 … L−1).
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    #[serde(default)]
    pub drops: Vec<usize>,
}

/// The sub-network of `arch` that keeps the bottom `num_layers - drop` layers whole.
pub fn bottom_layers(arch: &lopper_core::Arch, drop: usize) -> Result<Subnet> {
    let keep = arch.num_layers.saturating_sub(drop);
    let layers = (0..arch.num_layers)
        .map(|l| {
            (l < keep).then(|| LayerKeep {
                heads: (0..arch.num_heads).collect(),
                units: (0..arch.intermediate_size).collect(),
            })
        })
        .collect();
    Ok(Subnet::new(arch, layers)?)
}

/// Sajjad et al.'s top-layer dropping of the pre-trained model of `train`, into `dir`: for
/// each `n` of `spec.drops` (default 1 … L−1), the bottom `L − n` layers fine-tuned on the task
/// with `train`'s settings (`standard`, members scored in batches of its
/// `eval_batch_size`; `dir/members/drop-<n>`, resumable), one member each,
/// its best checkpoint its model. The unpruned network beside the front is `fine_tuned`'s
/// when given, else fine-tuned the same way (`drop-0`).
pub fn layer_dropping(
    spec: &LayerDroppingSpec,
    train: &TrainSpec,
    fine_tuned: Option<&TrainDir>,
    dir: &SearchDir,
    observers: &dyn Observers,
) -> Result<FrontFile> {
    let eval_batch_size = train.eval_batch_size;
    let model_dir = resolve_model(&train.model, None)?;
    let arch = EncoderConfig::from_file(&model_dir.join("config.json"))?.arch();
    let l = arch.num_layers;
    let drops: Vec<usize> = if spec.drops.is_empty() {
        (1..l).collect()
    } else {
        spec.drops.clone()
    };
    if drops.iter().any(|&n| n == 0 || n >= l) {
        return Err(PipelineError::Setting {
            setting: "drops",
            expected: format!("numbers of top layers in 1 … {}", l - 1),
        });
    }
    let mut spec_train = train.clone();
    spec_train.strategy = lopper_train::StrategyKind::Standard;
    let record = BaselineRecord {
        train_run: None,
        settings: BaselineSettings::Ld {
            spec: LayerDroppingSpec {
                drops: drops.clone(),
            },
            train: Box::new(spec_train.clone()),
        },
    };
    claim_folder(dir, &record)?;
    // Fine-tunes `drop` top layers away (skipped when its run is complete) and opens it.
    let run_for = |drop: usize| -> Result<(TrainDir, Subnet)> {
        let subnet = bottom_layers(&arch, drop)?;
        let run = TrainDir::new(dir.path().join("members").join(format!("drop-{drop}")));
        if !run.summary().is_file() {
            observers.message(&format!(
                "LD: fine-tuning the bottom {} of {l} layers → {}",
                l - drop,
                run.path().display()
            ));
            crate::train_subnet(&spec_train, &subnet, &run, None, observers)?;
        }
        Ok((run, subnet))
    };
    let mut members = Vec::with_capacity(drops.len());
    for (i, &drop) in drops.iter().enumerate() {
        let (run, subnet) = run_for(drop)?;
        let mut extra = serde_json::Map::new();
        extra.insert("dropped_layers".into(), drop.into());
        let (m, _) = member_of_run(&run, drop as u64, subnet, extra, true, eval_batch_size)?;
        members.push(m);
        observers.progress("LD: members", i + 1, drops.len());
    }
    let full_run = match fine_tuned {
        Some(run) => run.clone(),
        None => run_for(0)?.0,
    };
    let (full, objectives) = member_of_run(
        &full_run,
        0,
        Subnet::full(&arch),
        serde_json::Map::new(),
        false,
        eval_batch_size,
    )?;
    let full = FullNetwork::from(full);
    write_baseline_front(dir, objectives, members, full, &record)
}

impl PruningMethod for LayerDroppingSpec {
    fn name(&self) -> &'static str {
        "ld"
    }

    fn prune(
        &self,
        input: &PruningInput,
        dir: &SearchDir,
        observers: &dyn Observers,
    ) -> Result<FrontFile> {
        layer_dropping(
            self,
            input.train("ld")?,
            input.fine_tuned.as_ref(),
            dir,
            observers,
        )
    }
}

register_method!(
    LayerDroppingSpec,
    "ld",
    "Sajjad et al.'s layer dropping: the top n layers dropped, the rest fine-tuned, one member per n"
);
