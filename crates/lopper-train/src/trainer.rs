//! One optimizer step per batch over the members a strategy plans.

use std::path::Path;

use burn::optim::{
    AdamWState, AdaptiveMomentumState, GradientsAccumulator, GradientsParams, LearningRate,
    ModuleOptimizer, Optimizer,
};
use burn::tensor::{Device, Tensor};
use lopper_core::{SearchSpace, SeededRng, seeded_rng};
use lopper_model::kernels::{AdamWStep, adamw_update};
use lopper_model::{Batch, EncoderOutput, EncoderWeights, HeadKind, Mode, Network, SuperNet};
use serde::{Deserialize, Serialize};

use crate::{
    LinearSchedule, LossKind, Result, Role, Strategy, StrategyConfig, StrategyKind, Targets,
    TrainError, distillation_loss, task_loss,
};

/// Training settings; the defaults are the paper's (lr 2e-5, batch 4, 5 epochs, T = 10, k = 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The strategy.
    pub strategy: StrategyKind,
    /// Sub-network sampling and distillation settings.
    pub strategy_config: StrategyConfig,
    /// Peak learning rate.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// Warm-up steps of the linear schedule.
    pub warmup_steps: usize,
    /// Per-parameter gradient norm clipping (Burn clips each parameter's gradient), if any.
    pub grad_clip: Option<f32>,
    /// Epochs.
    pub epochs: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Seed of sub-network sampling (data order and head initialisation have their own seeds,
    /// recorded beside this one).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            strategy: StrategyKind::Standard,
            strategy_config: StrategyConfig::default(),
            lr: 2e-5,
            weight_decay: 0.01,
            warmup_steps: 0,
            grad_clip: Some(1.0),
            epochs: 5,
            batch_size: 4,
            seed: 0,
        }
    }
}

/// One trained member in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Why it was trained.
    pub role: Role,
    /// How.
    pub loss_kind: LossKind,
    /// Its loss on the batch.
    pub loss: f64,
    /// Its summary (`Subnet`'s display).
    pub summary: String,
    /// Exactly what was kept.
    pub subnet: lopper_core::Subnet,
    /// Heads and units kept.
    pub heads: usize,
    /// Units kept.
    pub units: usize,
}

/// The trace of one optimizer step (a line of the metrics log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 0-based optimizer step.
    pub step: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean loss over the members.
    pub loss: f64,
    /// The members trained.
    pub members: Vec<MemberRecord>,
}

/// The step and the sampling generator of a [`Trainer`], as a checkpoint keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps taken.
    pub step: usize,
    /// The generator sub-networks are drawn with.
    pub rng: SeededRng,
}

/// AdamW with per-parameter gradient-norm clipping, each parameter's step one call of
/// lopper's kernel ([`adamw_update`]): on `flex` one pass over the gradient for its norm and
/// one over the parameter and its moments, where Burn's `AdamW` after its
/// `GradientClipping::Norm` makes about fifteen. It computes what they compute, element by
/// element in the same order (the clipping norm's sum is added in another order), and keeps
/// its moments in Burn's `AdamWState`, so an `optimizer.bpk` written by either reads back in
/// the other.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedAdamW {
    /// Decay of the first moment (Burn's default, 0.9).
    pub beta_1: f32,
    /// Decay of the second moment (Burn's default, 0.999).
    pub beta_2: f32,
    /// Added to `√v̂`.
    pub epsilon: f32,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// The largest L2 norm a parameter's gradient keeps, if any.
    pub clip_norm: Option<f32>,
}

impl FusedAdamW {
    /// The optimizer [`Trainer`] steps with `config`'s settings (ε 1e-8).
    pub fn new(config: &TrainConfig) -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
            weight_decay: config.weight_decay,
            clip_norm: config.grad_clip,
        }
    }

    /// As a Burn module optimizer.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (time, m, v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                s.momentum.moment_1,
                s.momentum.moment_2,
            ),
            None => (1, grad.zeros_like(), grad.zeros_like()),
        };
        let step = AdamWStep {
            lr,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            weight_decay: self.weight_decay,
            time: i32::try_from(time).unwrap_or(i32::MAX),
            clip_norm: self.clip_norm,
        };
        let (tensor, m, v) = adamw_update(tensor, grad, m, v, step);
        let state = AdamWState::new(AdaptiveMomentumState::new(time, m, v));
        (tensor, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdamWState::new(state.momentum.to_device(device))
    }
}

fn adamw(config: &TrainConfig) -> ModuleOptimizer {
    FusedAdamW::new(config).init()
}

/// Fine-tunes a [`SuperNet`] with a [`Strategy`].
pub struct Trainer {
    config: TrainConfig,
    strategy: Box<dyn Strategy>,
    optimizer: ModuleOptimizer,
    schedule: LinearSchedule,
    rng: SeededRng,
    step: usize,
}

impl Trainer {
    /// A trainer for `total_steps` optimizer steps.
    pub fn new(config: TrainConfig, total_steps: usize) -> Result<Self> {
        if config.lr.is_nan() || config.lr <= 0.0 || config.batch_size == 0 || total_steps == 0 {
            return Err(TrainError::Settings(
                "lr must be positive and batch size and step count at least 1".into(),
            ));
        }
        let strategy = config.strategy.build(&config.strategy_config)?;
        let schedule = LinearSchedule {
            peak: config.lr,
            warmup: config.warmup_steps,
            total: total_steps,
        };
        let rng = seeded_rng(config.seed);
        Ok(Self {
            strategy,
            optimizer: adamw(&config),
            schedule,
            rng,
            step: 0,
            config,
        })
    }

    /// Optimizer steps taken.
    pub fn step_count(&self) -> usize {
        self.step
    }

    /// What a checkpoint needs besides the weights and the optimizer's moments: the step and
    /// the sampling generator.
    pub fn state(&self) -> TrainerState {
        TrainerState {
            step: self.step,
            rng: self.rng.clone(),
        }
    }

    /// Continues from `state` (of a trainer with the same settings).
    pub fn restore(&mut self, state: TrainerState) {
        self.step = state.step;
        self.rng = state.rng;
    }

    /// Writes AdamW's moments (Burn's burnpack format, keyed by parameter id) to `path`.
    pub fn save_optimizer(&self, path: &Path) -> Result<()> {
        self.optimizer
            .save(path)
            .map_err(|e| TrainError::checkpoint(path, format!("{e:?}")))
    }

    /// Reads AdamW's moments written by [`save_optimizer`](Self::save_optimizer). The network
    /// must carry the parameter ids it had when they were written (a network restored from the
    /// same checkpoint does).
    pub fn load_optimizer(&mut self, path: &Path) -> Result<()> {
        self.optimizer = adamw(&self.config)
            .load(path)
            .map_err(|e| TrainError::checkpoint(path, format!("{e:?}")))?;
        Ok(())
    }

    /// The settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// One optimizer step on `batch`: every member of the strategy's plan runs sliced, its loss
    /// is back-propagated and the gradients accumulated; AdamW then steps once. `net` must live
    /// on an autodiff device.
    pub fn train_step(
        &mut self,
        net: &mut SuperNet,
        space: &dyn SearchSpace,
        batch: &Batch,
        targets: &Targets,
        num_choices: usize,
    ) -> Result<StepRecord> {
        let members = self
            .strategy
            .plan(space, self.step, self.schedule.total, &mut self.rng)?;
        let mut accumulator = GradientsAccumulator::<EncoderWeights>::new();
        let mut teacher: Option<Tensor<2>> = None;
        let mut records = Vec::with_capacity(members.len());
        for m in &members {
            let logits = logits(net, batch, &m.subnet, num_choices, Mode::Sliced)?;
            let loss = match (m.loss, &teacher) {
                (LossKind::Task, _) => task_loss(logits.clone(), targets),
                (LossKind::Distill, Some(t)) => distillation_loss(
                    logits.clone(),
                    t.clone(),
                    targets,
                    self.config.strategy_config.temperature,
                ),
                (LossKind::Distill, None) => {
                    return Err(TrainError::Settings(format!(
                        "strategy `{}` planned a distilled member before its teacher",
                        self.strategy.name()
                    )));
                }
            };
            if m.role == Role::Largest && teacher.is_none() {
                // The teacher's logits are detached: the distillation loss sends no gradient
                // through them.
                teacher = Some(logits.detach());
            }
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                // Stop before the optimizer step: the weights stay those of the last finite
                // loss, and the caller's last checkpoint is not overwritten.
                return Err(TrainError::Diverged {
                    step: self.step + 1,
                    loss: value,
                });
            }
            let grads = GradientsParams::from_grads(loss.backward(), net.weights());
            accumulator.accumulate(net.weights(), grads);
            records.push(MemberRecord {
                role: m.role,
                loss_kind: m.loss,
                loss: value,
                summary: m.subnet.to_string(),
                subnet: m.subnet.clone(),
                heads: m.subnet.total_heads(),
                units: m.subnet.total_units(),
            });
        }
        let lr = self.schedule.lr(self.step);
        let weights = self
            .optimizer
            .step(lr, net.weights().clone(), accumulator.grads());
        net.set_weights(weights);
        let record = StepRecord {
            step: self.step,
            lr,
            loss: records.iter().map(|r| r.loss).sum::<f64>() / records.len().max(1) as f64,
            members: records,
        };
        self.step += 1;
        Ok(record)
    }
}

/// The task loss of `subnet` on `batch` (no optimizer step): for checking what training did.
pub fn subnet_loss(
    net: &dyn Network,
    batch: &Batch,
    subnet: &lopper_core::Subnet,
    targets: &Targets,
    num_choices: usize,
) -> Result<f64> {
    let logits = logits(net, batch, subnet, num_choices, Mode::Sliced)?.detach();
    Ok(f64::from(task_loss(logits, targets).into_scalar::<f32>()))
}

/// Logits of `subnet` on `batch`, `[batch, classes]` (multiple choice: `[examples, choices]`).
pub(crate) fn logits(
    net: &dyn Network,
    batch: &Batch,
    subnet: &lopper_core::Subnet,
    num_choices: usize,
    mode: Mode,
) -> Result<Tensor<2>> {
    task_logits(
        net.forward(batch, subnet, mode)?,
        net.config().head,
        num_choices,
    )
}

/// The task head's logits of a forward pass, `[batch, classes]`; a multiple-choice head's
/// one score per choice regrouped as `[examples, choices]`.
pub(crate) fn task_logits(
    out: EncoderOutput,
    head: HeadKind,
    num_choices: usize,
) -> Result<Tensor<2>> {
    let logits = out.logits.ok_or_else(|| {
        TrainError::Settings(
            "the model has no task head: load it with a classification head".into(),
        )
    })?;
    Ok(match head {
        HeadKind::MultipleChoice => {
            let [rows, _] = logits.dims();
            logits.reshape([rows / num_choices.max(1), num_choices.max(1)])
        }
        _ => logits,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use burn::module::{Module, Param};
    use burn::optim::AdamWConfig;
    use burn::optim::grad_clipping::GradientClippingConfig;
    use burn::tensor::Distribution;

    #[derive(Module, Debug)]
    struct Two {
        a: Param<Tensor<2>>,
        b: Param<Tensor<1>>,
    }

    fn two(device: &Device) -> Two {
        Two {
            a: Param::from_tensor(Tensor::random(
                [7, 33],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
            b: Param::from_tensor(Tensor::random([33], Distribution::Normal(0.0, 1.0), device)),
        }
    }

    /// A loss whose gradient is large for `a` (clipped at norm 1) and small for `b`.
    fn grads(m: &Two, x: &Tensor<2>) -> GradientsParams {
        let y = x.clone().matmul(m.a.val()) * 3.0 + m.b.val().unsqueeze() * 0.01;
        GradientsParams::from_grads((y.clone() * y).sum().backward(), m)
    }

    fn burns() -> ModuleOptimizer {
        AdamWConfig::new()
            .with_weight_decay(0.01)
            .with_epsilon(1e-8)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
            .init()
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn max_rel(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs() / y.abs().max(1e-3))
            .fold(0.0, f32::max)
    }

    #[test]
    fn fused_adamw_steps_as_burns_adamw_with_clipping_and_reads_its_state() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let x = Tensor::<2>::random([5, 7], Distribution::Normal(0.0, 1.0), &device);
        let config = TrainConfig::default();
        let (mut ours, mut theirs) = (adamw(&config), burns());
        let (mut a, mut b) = (two(&device), two(&device));
        b = b.load_record(a.clone().into_record());
        for _ in 0..3 {
            a = ours.step(1e-2, a.clone(), grads(&a, &x));
            b = theirs.step(1e-2, b.clone(), grads(&b, &x));
        }
        let (va, vb) = (values(a.a.val()), values(b.a.val()));
        assert!(max_rel(&va, &vb) <= 1e-5, "{}", max_rel(&va, &vb));
        assert_ne!(va, values(two(&device).a.val()));
        // Burn's saved moments continue under the fused optimizer as under Burn's.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("optimizer.bpk");
        theirs.save(&path).unwrap();
        let mut resumed = adamw(&config).load(&path).unwrap();
        let c = resumed.step(1e-2, b.clone(), grads(&b, &x));
        let b = theirs.step(1e-2, b.clone(), grads(&b, &x));
        let (vc, vb) = (values(c.a.val()), values(b.a.val()));
        assert!(max_rel(&vc, &vb) <= 1e-5, "{}", max_rel(&vc, &vb));
    }
}
