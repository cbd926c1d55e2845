//! # lopper-train
//!
//! Stage one of Klein et al., "Structural Pruning of Pre-trained Language Models via Neural
//! Architecture Search" (arXiv 2405.02267): fine-tune a pre-trained encoder as a weight-sharing
//! super-network, so that its sub-networks can later be searched without retraining.
//!
//! - [`Strategy`]: which sub-networks a step trains, and with which loss. The paper's
//!   strategies are selectable by name ([`strategy_by_name`]): `standard`, `random`,
//!   `linear-random`, `sandwich` (Yu & Huang 2019), `kd` (in-place distillation) and `full`
//!   (sandwich with in-place distillation).
//! - [`Trainer`]: one optimizer step per batch — every planned sub-network runs sliced, its
//!   gradients are accumulated into the shared parameters, AdamW (decoupled weight decay,
//!   Loshchilov & Hutter 2019) steps once on a linear schedule with optional warm-up.
//! - [`StepRecord`]: the per-step trace (which sub-networks were trained, their losses), what
//!   proves a strategy is what its name says.
//! - [`Fit`]: epochs over a task's training split, validation after each epoch with the task's
//!   metric ([`Scorer`]), best and last checkpoints, a JSONL metrics log, progress through an
//!   observer ([`FitObserver`]: the `lopper` command installs a bar), and
//!   resumption of a killed run that reaches the uninterrupted run's weights.

mod error;
mod fit;
mod importance;
mod loss;
mod rfp;
mod schedule;
mod score;
mod strategy;
mod trainer;

pub use error::{Result, TrainError};
pub use fit::{
    Fit, FitConfig, FitObserver, FitReport, FitSettings, MemberLine, MetricsLine, StepLine,
    SubnetScore, ValidationRecord, read_metrics,
};
pub use importance::{MaskGradients, mask_gradients, prune_heads_iteratively};
pub use loss::{Targets, distillation_loss, task_loss};
pub use rfp::{
    Block, Constraint, CostModel, KeepMasks, SkippedBlock, TuneSettings, Tuning, correlated_loss,
    fold_scales, rearrange, search_masks, solve_damped, tune_masks,
};
pub use schedule::LinearSchedule;
pub use score::{Scorer, model_batch};
pub use strategy::{
    LossKind, Member, Role, STRATEGIES, Strategy, StrategyConfig, StrategyKind, UnknownStrategy,
    strategy_by_name,
};
pub use trainer::{
    FusedAdamW, MemberRecord, StepRecord, TrainConfig, Trainer, TrainerState, subnet_loss,
};
