//! Kwon et al.'s retraining-free pruning ("A Fast Post-Training Pruning Framework for
//! Transformers", NeurIPS 2022) of a fine-tuned network, without any weight update by gradient
//! descent: (1) the empirical Fisher of every head and FFN unit mask ([`mask_gradients`]
//! gives it), (2) a mask search under a parameter or MAC constraint ([`search_masks`]), (3) the
//! rearrangement of each layer's mask to reduce the loss the layer's correlated Fisher predicts
//! ([`rearrange`]), (4) mask tuning: layer by layer, least-squares scale factors for the kept
//! heads and units that make the pruned layer reproduce the unpruned one ([`tune_masks`]),
//! folded into the weights afterwards ([`SuperNet::with_scales`]).
//!
//! [`mask_gradients`]: crate::mask_gradients

use burn::tensor::{Int, Tensor, TensorData};
use lopper_core::{Arch, LayerKeep, Subnet};
use lopper_model::{Batch, EncoderConfig, HeadKind, ModelError, SuperNet, macs, paper_params};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::{Result, TrainError};

/// What a constraint counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Constraint {
    /// The paper's parameter count ([`paper_params`]: embeddings, pooler and head included),
    /// as a fraction of the unpruned network's. Conservative: a layer's attention output
    /// projection is counted whenever the layer is (as when it keeps a head).
    Params,
    /// Multiply-accumulates of the layers at sequence length `seq_len` ([`macs`], Kwon et
    /// al.'s FLOPs constraint), as a fraction of the unpruned layers'.
    Macs {
        /// The sequence length the MACs are counted at (Kwon et al.: the task's average).
        seq_len: usize,
    },
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Constraint::Params => f.write_str("parameters"),
            Constraint::Macs { seq_len } => write!(f, "MACs at sequence length {seq_len}"),
        }
    }
}

/// What keeping one head and one unit costs under a constraint, and what is spent whatever is
/// kept: the additive cost model the mask search fills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// One head.
    pub head: f64,
    /// One FFN unit.
    pub unit: f64,
    /// What no mask removes (embeddings, norms, biases, pooler, head; 0 for MACs).
    pub fixed: f64,
    /// The unpruned network's total.
    pub full: f64,
}

impl CostModel {
    /// The costs of `constraint` for `config`.
    pub fn new(config: &EncoderConfig, constraint: Constraint) -> Result<Self> {
        let arch = config.arch();
        let full_subnet = Subnet::full(&arch);
        let (d, dh) = (config.hidden_size as f64, config.head_dim() as f64);
        let (l, h, n) = (
            config.num_layers as f64,
            config.num_heads as f64,
            config.intermediate_size as f64,
        );
        match constraint {
            Constraint::Params => {
                let head = 3.0 * (d * dh + dh);
                let unit = 2.0 * d + 1.0;
                let full = paper_params(config, &full_subnet) as f64;
                Ok(Self {
                    head,
                    unit,
                    fixed: full - l * (h * head + n * unit),
                    full,
                })
            }
            Constraint::Macs { seq_len } => {
                if seq_len == 0 {
                    return Err(TrainError::Settings(
                        "a MAC constraint needs a sequence length of at least 1".into(),
                    ));
                }
                let s = seq_len as f64;
                Ok(Self {
                    head: 3.0 * s * d * dh + 2.0 * s * s * dh + s * dh * d,
                    unit: 2.0 * s * d,
                    fixed: 0.0,
                    full: macs(config, &full_subnet, seq_len) as f64,
                })
            }
        }
    }

    /// What `heads` heads and `units` units cost in all.
    pub fn cost(&self, heads: usize, units: usize) -> f64 {
        self.fixed + heads as f64 * self.head + units as f64 * self.unit
    }
}

/// Per-layer keep masks: `heads[l][h]`, `units[l][u]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeepMasks {
    /// Heads kept, per layer.
    pub heads: Vec<Vec<bool>>,
    /// Units kept, per layer.
    pub units: Vec<Vec<bool>>,
}

impl KeepMasks {
    /// The sub-network these masks keep (every layer present, possibly empty).
    pub fn subnet(&self, arch: &Arch) -> Result<Subnet> {
        let kept = |m: &[bool]| -> Vec<usize> { (0..m.len()).filter(|&i| m[i]).collect() };
        let layers = self
            .heads
            .iter()
            .zip(&self.units)
            .map(|(h, u)| {
                Some(LayerKeep {
                    heads: kept(h),
                    units: kept(u),
                })
            })
            .collect();
        Ok(Subnet::new(arch, layers)?)
    }

    /// Kept heads and units in all.
    pub fn counts(&self) -> (usize, usize) {
        let count = |m: &[Vec<bool>]| m.iter().flatten().filter(|&&k| k).count();
        (count(&self.heads), count(&self.units))
    }
}

/// Kwon et al.'s mask search (their Algorithm 1): for every number of kept heads that fits
/// `fraction` of the constraint's total, the rest of the budget filled with the most important
/// units; the split whose kept heads and units have the highest total importance wins. With
/// uniform costs per head and per unit this is the exact optimum of the knapsack. `head_scores`
/// and `unit_scores`: per-layer importance (the diagonal Fisher). `None` when the budget does
/// not even cover what no mask removes.
pub fn search_masks(
    head_scores: &[Vec<f64>],
    unit_scores: &[Vec<f64>],
    costs: &CostModel,
    fraction: f64,
) -> Option<KeepMasks> {
    let budget = fraction * costs.full - costs.fixed;
    if budget < 0.0 {
        return None;
    }
    let ranked = |scores: &[Vec<f64>]| -> Vec<(f64, usize, usize)> {
        let mut all: Vec<(f64, usize, usize)> = scores
            .iter()
            .enumerate()
            .flat_map(|(l, row)| row.iter().enumerate().map(move |(i, &s)| (s, l, i)))
            .collect();
        // Most important first; ties by layer, then index, so the result is deterministic.
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        all
    };
    let heads = ranked(head_scores);
    let units = ranked(unit_scores);
    let prefix = |r: &[(f64, usize, usize)]| -> Vec<f64> {
        std::iter::once(0.0)
            .chain(r.iter().scan(0.0, |acc, x| {
                *acc += x.0;
                Some(*acc)
            }))
            .collect()
    };
    let (head_sum, unit_sum) = (prefix(&heads), prefix(&units));
    let mut best: Option<(f64, usize, usize)> = None;
    for (h, &kept_heads) in head_sum.iter().enumerate() {
        let left = budget - h as f64 * costs.head;
        if left < 0.0 {
            break;
        }
        let u = ((left / costs.unit).floor() as usize).min(units.len());
        let score = kept_heads + unit_sum[u];
        if best.is_none_or(|(s, _, _)| score > s) {
            best = Some((score, h, u));
        }
    }
    let (_, h, u) = best?;
    let mut masks = KeepMasks {
        heads: head_scores.iter().map(|r| vec![false; r.len()]).collect(),
        units: unit_scores.iter().map(|r| vec![false; r.len()]).collect(),
    };
    for &(_, l, i) in &heads[..h] {
        masks.heads[l][i] = true;
    }
    for &(_, l, i) in &units[..u] {
        masks.units[l][i] = true;
    }
    Some(masks)
}

/// The loss the block-diagonal Fisher predicts for removing `pruned` from one layer:
/// `(1 − m)ᵀ F (1 − m)` with `F = Σ_b g_b g_bᵀ`, i.e. `Σ_b (Σ_{j ∈ pruned} g_bj)²`.
/// `grads[b][j]`: the gradient of batch `b` for mask entry `j`.
pub fn correlated_loss(grads: &[Vec<f64>], pruned: &[usize]) -> f64 {
    grads
        .iter()
        .map(|g| {
            let s: f64 = pruned.iter().map(|&j| g[j]).sum();
            s * s
        })
        .sum()
}

/// Kwon et al.'s mask rearrangement (their Algorithm 2) of one layer: with as many entries
/// kept as `keep` keeps, start from the least important entries pruned (by the diagonal
/// Fisher), then take the others in ascending order: add each to the pruned set and give back
/// the one whose return lowers the [`correlated_loss`] most. The loss never rises above the
/// start's. `grads[b][j]`: per-batch gradients of this layer's masks.
pub fn rearrange(keep: &[bool], grads: &[Vec<f64>]) -> Vec<bool> {
    let n = keep.len();
    let num_pruned = keep.iter().filter(|&&k| !k).count();
    if num_pruned == 0 || num_pruned == n || grads.is_empty() {
        return keep.to_vec();
    }
    let diag: Vec<f64> = (0..n)
        .map(|j| grads.iter().map(|g| g[j] * g[j]).sum())
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| diag[a].total_cmp(&diag[b]).then(a.cmp(&b)));
    let mut pruned: Vec<usize> = order[..num_pruned].to_vec();
    // Running Σ_{j ∈ pruned} g_bj for every batch.
    let mut sums: Vec<f64> = grads
        .iter()
        .map(|g| pruned.iter().map(|&j| g[j]).sum())
        .collect();
    for &next in &order[num_pruned..] {
        pruned.push(next);
        for (s, g) in sums.iter_mut().zip(grads) {
            *s += g[next];
        }
        // Which member's return leaves the smallest loss: Σ_b (sum_b − g_bj)².
        let mut best = (f64::INFINITY, pruned.len() - 1);
        for (pos, &j) in pruned.iter().enumerate() {
            let loss: f64 = sums
                .iter()
                .zip(grads)
                .map(|(s, g)| (s - g[j]) * (s - g[j]))
                .sum();
            if loss < best.0 {
                best = (loss, pos);
            }
        }
        let back = pruned.swap_remove(best.1);
        for (s, g) in sums.iter_mut().zip(grads) {
            *s -= g[back];
        }
    }
    let mut out = vec![true; n];
    for j in pruned {
        out[j] = false;
    }
    out
}

/// The damped least-squares solution of the normal equations, shrunk towards all-ones (the
/// unpruned block's own scales, as Kwon et al. shrink towards them by solving for `x − 1`):
/// `(AᵀA + λ·I) x = Aᵀb + λ·1`, with `λ` = `damping` times the mean of `AᵀA`'s diagonal
/// (scale-free, so one setting fits every layer). `None` when the system is singular or the
/// solution not finite.
pub fn solve_damped(ata: &DMatrix<f64>, atb: &DVector<f64>, damping: f64) -> Option<DVector<f64>> {
    let k = ata.nrows();
    if k == 0 {
        return Some(DVector::zeros(0));
    }
    let lambda = damping * ata.diagonal().sum() / k as f64;
    let mut a = ata.clone();
    let mut rhs = atb.clone();
    for i in 0..k {
        a[(i, i)] += lambda;
        rhs[i] += lambda;
    }
    let x = match a.clone().cholesky() {
        Some(c) => c.solve(&rhs),
        None => a.lu().solve(&rhs)?,
    };
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// How mask tuning solves and when it gives a layer up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TuneSettings {
    /// The damping of [`solve_damped`].
    pub damping: f64,
    /// A block whose scale factors leave `[-max_scale, max_scale]` keeps its plain 0/1 mask
    /// (as the original does with 10).
    pub max_scale: f64,
    /// Fit the last layer's feed-forward block on the first token only, the one the task head
    /// reads (as Kwon et al. do for classifiers). No effect on a bare encoder.
    pub last_layer_first_token: bool,
}

impl Default for TuneSettings {
    fn default() -> Self {
        Self {
            damping: 1e-4,
            max_scale: 10.0,
            last_layer_first_token: true,
        }
    }
}

/// Which block of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// The attention block (head scales).
    Attention,
    /// The feed-forward block (unit scales).
    Ffn,
}

/// A block mask tuning left at its 0/1 mask, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedBlock {
    /// The layer.
    pub layer: usize,
    /// The block.
    pub block: Block,
    /// Why (singular system, or the largest scale factor's magnitude).
    pub reason: String,
}

/// What mask tuning found: per-layer scale factors (0 for what the masks remove, 1 for what a
/// skipped block keeps) and the blocks it left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// `heads[l][h]`.
    pub heads: Vec<Vec<f32>>,
    /// `units[l][u]`.
    pub units: Vec<Vec<f32>>,
    /// Blocks left at their 0/1 masks.
    pub skipped: Vec<SkippedBlock>,
}

fn to_vec<const D: usize>(t: Tensor<D>, what: &str) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec()
        .map_err(|source| {
            ModelError::Data {
                what: what.into(),
                source,
            }
            .into()
        })
}

fn indices(mask: &[bool]) -> Vec<usize> {
    (0..mask.len()).filter(|&i| mask[i]).collect()
}

fn index_tensor(idx: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let v: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(v, [idx.len()]), device)
}

/// One block's scales, `width` of them (0 where not kept), from its normal equations; its 0/1
/// mask when they cannot be used, the block then listed in `skipped` with the reason.
fn solve_block(
    ata: &DMatrix<f64>,
    atb: &DVector<f64>,
    kept: &[usize],
    width: usize,
    settings: &TuneSettings,
    (layer, block): (usize, Block),
    skipped: &mut Vec<SkippedBlock>,
) -> Vec<f32> {
    let mut scales = vec![0.0f32; width];
    match block_scales(ata, atb, settings) {
        Ok(x) => kept.iter().zip(x).for_each(|(&j, v)| scales[j] = v),
        Err(reason) => {
            kept.iter().for_each(|&j| scales[j] = 1.0);
            skipped.push(SkippedBlock {
                layer,
                block,
                reason,
            });
        }
    }
    scales
}

/// Solves one block's scale factors from its accumulated normal equations; `Err(reason)` when
/// the block is to keep its 0/1 mask.
fn block_scales(
    ata: &DMatrix<f64>,
    atb: &DVector<f64>,
    settings: &TuneSettings,
) -> std::result::Result<Vec<f32>, String> {
    let x = solve_damped(ata, atb, settings.damping).ok_or("singular system")?;
    let largest = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest > settings.max_scale {
        return Err(format!(
            "a scale factor of magnitude {largest:.3} (over {})",
            settings.max_scale
        ));
    }
    Ok(x.iter().map(|&v| v as f32).collect())
}

/// Kwon et al.'s mask tuning (their Algorithm 3) of `net` (the fine-tuned network, on a device
/// without autodiff) pruned to `masks`, on `batches` (a sample of training inputs): layer by
/// layer, first the attention block and then the feed-forward block, the scale factors of the
/// kept heads (units) that minimise `‖x_s + Σ m_h·c_h(x_s) + b − (x_t + A(x_t))‖²` over every
/// real token (padding excluded), where `x_s` is the pruned network's input to the block (with
/// the factors of the layers before applied) and `x_t` the unpruned network's: the pruned
/// block's output before its LayerNorm made to match the original's. Damped normal equations
/// ([`solve_damped`]); a block whose factors leave the sane range keeps its 0/1 mask and is
/// reported. A block that keeps nothing is skipped (the dense pruned model has no such block).
/// `progress` hears of each layer done.
pub fn tune_masks(
    net: &SuperNet,
    batches: &[Batch],
    masks: &KeepMasks,
    settings: &TuneSettings,
    progress: &mut dyn FnMut(usize),
) -> Result<Tuning> {
    let c = net.config();
    let (l_count, h_count, n_count) = (c.num_layers, c.num_heads, c.intermediate_size);
    if masks.heads.len() != l_count || masks.units.len() != l_count {
        return Err(TrainError::Settings(format!(
            "masks for {l_count} layers expected"
        )));
    }
    let d = c.hidden_size;
    let device = net.device().clone();
    let mut tuning = Tuning {
        heads: masks
            .heads
            .iter()
            .map(|m| m.iter().map(|&k| f32::from(u8::from(k))).collect())
            .collect(),
        units: masks
            .units
            .iter()
            .map(|m| m.iter().map(|&k| f32::from(u8::from(k))).collect())
            .collect(),
        skipped: Vec::new(),
    };
    // Per batch: the teacher's and the student's input to the current block, the additive
    // attention mask, and the 0/1 token mask `[b, s, 1]` that keeps padding out of the sums.
    let mut teacher = Vec::with_capacity(batches.len());
    let mut student = Vec::with_capacity(batches.len());
    let mut masks_add = Vec::with_capacity(batches.len());
    let mut tokens = Vec::with_capacity(batches.len());
    for batch in batches {
        let (x, m) = net.embed_batch(batch);
        let [b, s] = batch.dims();
        teacher.push(x.clone());
        student.push(x);
        masks_add.push(m);
        tokens.push(batch.attention_mask.clone().reshape([b, s, 1]));
    }
    let ones_h = vec![1.0f32; h_count];
    let ones_n = vec![1.0f32; n_count];
    let first_token_only = settings.last_layer_first_token && c.head != HeadKind::None;
    for layer in 0..l_count {
        // ---- attention: heads.
        let kept = indices(&masks.heads[layer]);
        let k = kept.len();
        let mut normal = Normal::default();
        let mut teacher_mid = Vec::with_capacity(batches.len());
        for i in 0..batches.len() {
            let t_parts = net.attention_parts(layer, teacher[i].clone(), masks_add[i].clone())?;
            let target = t_parts.residual(teacher[i].clone(), &ones_h);
            teacher_mid.push(net.attention_norm(layer, target.clone())?);
            if k == 0 {
                continue;
            }
            let s_parts = net.attention_parts(layer, student[i].clone(), masks_add[i].clone())?;
            let [b, _, s, _] = s_parts.heads.dims();
            let tok = tokens[i].clone();
            // b = target − x_s − bias, over real tokens.
            let rhs = (target - student[i].clone() - s_parts.bias.clone().reshape([1, 1, d]))
                * tok.clone();
            let cols =
                s_parts.heads.select(1, index_tensor(&kept, &device)) * tok.reshape([b, 1, s, 1]);
            let flat = cols.swap_dims(0, 1).reshape([k, b * s * d]);
            let gram = flat.clone().matmul(flat.clone().transpose());
            let cross = flat.matmul(rhs.reshape([b * s * d, 1]));
            normal.add(gram, cross);
        }
        let (ata, atb) = normal.solve_input(k, None)?;
        let head_scales = if k > 0 {
            let at = (layer, Block::Attention);
            let v = solve_block(
                &ata,
                &atb,
                &kept,
                h_count,
                settings,
                at,
                &mut tuning.skipped,
            );
            tuning.heads[layer] = v.clone();
            v
        } else {
            vec![0.0; h_count]
        };
        for i in 0..batches.len() {
            teacher[i] = teacher_mid[i].clone();
            if k > 0 {
                let s_parts =
                    net.attention_parts(layer, student[i].clone(), masks_add[i].clone())?;
                let out = s_parts.residual(student[i].clone(), &head_scales);
                student[i] = net.attention_norm(layer, out)?;
            }
        }

        if first_token_only && layer + 1 == l_count {
            // Only the first token's output reaches the head from here on (Kwon et al. fit
            // a classifier's last feed-forward block on it alone).
            for (tok, batch) in tokens.iter_mut().zip(batches) {
                let [b, s] = batch.dims();
                let mut first = vec![0.0f32; b * s];
                first.iter_mut().step_by(s).for_each(|v| *v = 1.0);
                let first = Tensor::<3>::from_data(TensorData::new(first, [b, s, 1]), &device);
                *tok = tok.clone() * first;
            }
        }
        // ---- feed-forward: units.
        let kept = indices(&masks.units[layer]);
        let k = kept.len();
        let mut normal = Normal::default();
        let mut row_gram = None;
        let mut teacher_next = Vec::with_capacity(batches.len());
        for i in 0..batches.len() {
            let t_parts = net.ffn_parts(layer, teacher[i].clone())?;
            let target = t_parts.residual(teacher[i].clone(), &ones_n);
            teacher_next.push(net.ffn_norm(layer, target.clone())?);
            if k == 0 {
                continue;
            }
            let s_parts = net.ffn_parts(layer, student[i].clone())?;
            let [b, s, _] = s_parts.activations.dims();
            let tok = tokens[i].clone();
            let rhs = ((target - student[i].clone() - s_parts.bias.clone().reshape([1, 1, d]))
                * tok.clone())
            .reshape([b * s, d]);
            let idx = index_tensor(&kept, &device);
            let a = (s_parts.activations.select(2, idx.clone()) * tok).reshape([b * s, k]);
            let rows = s_parts.rows.select(0, idx); // [k, d]
            // AᵀA = (Σ aᵀa) ∘ (R Rᵀ), the second factor the same for every batch;
            // Aᵀb = Σ_tokens a ∘ (b Rᵀ).
            let gram = a.clone().transpose().matmul(a.clone());
            let cross = (a * rhs.matmul(rows.clone().transpose()))
                .sum_dim(0)
                .reshape([k, 1]);
            normal.add(gram, cross);
            if row_gram.is_none() {
                row_gram = Some(rows.clone().matmul(rows.transpose()));
            }
        }
        let (ata, atb) = normal.solve_input(k, row_gram)?;
        let unit_scales = if k > 0 {
            let at = (layer, Block::Ffn);
            let v = solve_block(
                &ata,
                &atb,
                &kept,
                n_count,
                settings,
                at,
                &mut tuning.skipped,
            );
            tuning.units[layer] = v.clone();
            v
        } else {
            vec![0.0; n_count]
        };
        for i in 0..batches.len() {
            teacher[i] = teacher_next[i].clone();
            if k > 0 {
                let s_parts = net.ffn_parts(layer, student[i].clone())?;
                let out = s_parts.residual(student[i].clone(), &unit_scales);
                student[i] = net.ffn_norm(layer, out)?;
            }
        }
        progress(layer + 1);
    }
    Ok(tuning)
}

/// A block's normal equations summed over batches on the device (`[k, k]` and `[k, 1]`), read
/// back once.
#[derive(Default)]
struct Normal {
    gram: Option<Tensor<2>>,
    cross: Option<Tensor<2>>,
}

impl Normal {
    fn add(&mut self, gram: Tensor<2>, cross: Tensor<2>) {
        self.gram = Some(match self.gram.take() {
            Some(g) => g + gram,
            None => gram,
        });
        self.cross = Some(match self.cross.take() {
            Some(c) => c + cross,
            None => cross,
        });
    }

    /// `AᵀA` (times `factor` element-wise, when given) and `Aᵀb` in f64; zeros when no batch
    /// was added.
    fn solve_input(
        self,
        k: usize,
        factor: Option<Tensor<2>>,
    ) -> Result<(DMatrix<f64>, DVector<f64>)> {
        let (Some(gram), Some(cross)) = (self.gram, self.cross) else {
            return Ok((DMatrix::zeros(k, k), DVector::zeros(k)));
        };
        let gram = match factor {
            Some(f) => gram * f,
            None => gram,
        };
        let g = to_vec(gram, "a Gram matrix")?;
        let x = to_vec(cross, "a least-squares right-hand side")?;
        Ok((
            DMatrix::from_row_iterator(k, k, g.iter().map(|&v| f64::from(v))),
            DVector::from_iterator(k, x.iter().map(|&v| f64::from(v))),
        ))
    }
}

/// The scale factors a [`Tuning`] leaves, with what the masks remove set back to 1: what
/// [`SuperNet::with_scales`] folds into a full-size checkpoint whose sub-network (the masks')
/// then computes the tuned pruned model.
pub fn fold_scales(tuning: &Tuning, masks: &KeepMasks) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let fold = |scales: &[Vec<f32>], keep: &[Vec<bool>]| -> Vec<Vec<f32>> {
        scales
            .iter()
            .zip(keep)
            .map(|(s, k)| {
                s.iter()
                    .zip(k)
                    .map(|(&v, &kept)| if kept { v } else { 1.0 })
                    .collect()
            })
            .collect()
    };
    (
        fold(&tuning.heads, &masks.heads),
        fold(&tuning.units, &masks.units),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_a_known_scale() {
        // Synthetic A (20 × 4), x = (0.5, 2, −1.25, 3): b = A x exactly.
        let a = DMatrix::<f64>::from_fn(20, 4, |r, c| {
            ((r * 7 + c * 3) % 11) as f64 / 11.0 - 0.4 + if r == c { 1.0 } else { 0.0 }
        });
        let truth = DVector::from_vec(vec![0.5, 2.0, -1.25, 3.0]);
        let b = &a * &truth;
        let x = solve_damped(&(a.transpose() * &a), &(a.transpose() * b), 0.0).unwrap();
        for (got, want) in x.iter().zip(truth.iter()) {
            assert!((got - want).abs() < 1e-10, "{got} vs {want}");
        }
    }

    #[test]
    fn damping_shrinks_towards_one() {
        let ata = DMatrix::<f64>::identity(3, 3);
        let atb = DVector::from_vec(vec![1.0, 2.0, 3.0]);
        // (1 + 1) x = b + 1.
        let x = solve_damped(&ata, &atb, 1.0).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12);
        assert!((x[2] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_singular_system_is_refused() {
        let ata = DMatrix::<f64>::zeros(2, 2);
        let atb = DVector::from_vec(vec![1.0, 1.0]);
        assert!(solve_damped(&ata, &atb, 0.0).is_none());
    }

    /// Every subset of `n` entries, as 0/1 masks.
    fn subsets(n: usize) -> impl Iterator<Item = Vec<bool>> {
        (0u32..(1 << n)).map(move |bits| (0..n).map(|i| bits >> i & 1 == 1).collect())
    }

    #[test]
    fn mask_search_is_the_brute_force_optimum() {
        // 2 layers × 2 heads, 2 layers × 3 units; costs 5 per head, 2 per unit, 3 fixed.
        let heads = vec![vec![0.9, 0.1], vec![0.4, 0.35]];
        let units = vec![vec![0.3, 0.05, 0.2], vec![0.25, 0.15, 0.01]];
        let costs = CostModel {
            head: 5.0,
            unit: 2.0,
            fixed: 3.0,
            full: 3.0 + 4.0 * 5.0 + 6.0 * 2.0,
        };
        for fraction in [0.1, 0.2, 0.35, 0.5, 0.62, 0.8, 1.0] {
            let budget = fraction * costs.full;
            let mut best = f64::NEG_INFINITY;
            for hm in subsets(4) {
                for um in subsets(6) {
                    let nh = hm.iter().filter(|&&k| k).count();
                    let nu = um.iter().filter(|&&k| k).count();
                    if costs.cost(nh, nu) > budget + 1e-12 {
                        continue;
                    }
                    let s: f64 = hm
                        .iter()
                        .zip(heads.iter().flatten())
                        .filter(|p| *p.0)
                        .map(|p| p.1)
                        .sum::<f64>()
                        + um.iter()
                            .zip(units.iter().flatten())
                            .filter(|p| *p.0)
                            .map(|p| p.1)
                            .sum::<f64>();
                    best = best.max(s);
                }
            }
            let found = search_masks(&heads, &units, &costs, fraction).unwrap();
            let (nh, nu) = found.counts();
            assert!(
                costs.cost(nh, nu) <= budget + 1e-12,
                "over budget at {fraction}"
            );
            let score: f64 = found
                .heads
                .iter()
                .flatten()
                .zip(heads.iter().flatten())
                .filter(|p| *p.0)
                .map(|p| p.1)
                .sum::<f64>()
                + found
                    .units
                    .iter()
                    .flatten()
                    .zip(units.iter().flatten())
                    .filter(|p| *p.0)
                    .map(|p| p.1)
                    .sum::<f64>();
            assert!(
                (score - best).abs() < 1e-12,
                "{fraction}: {score} vs {best}"
            );
        }
        // Below what is fixed: nothing fits.
        assert!(search_masks(&heads, &units, &costs, 0.05).is_none());
    }

    #[test]
    fn rearrangement_keeps_the_count_and_never_raises_the_loss() {
        // Entries 0 and 1 have the smallest diagonal Fisher, but their gradients add up;
        // entry 2 is a little larger and cancels entry 1 out.
        let grads = vec![vec![1.0, 1.0, -1.1, 5.0], vec![-1.0, -1.0, 1.1, 5.0]];
        let keep = vec![false, false, true, true];
        let start = correlated_loss(&grads, &[0, 1]);
        let out = rearrange(&keep, &grads);
        assert_eq!(out.iter().filter(|&&k| !k).count(), 2);
        let pruned: Vec<usize> = (0..4).filter(|&j| !out[j]).collect();
        let after = correlated_loss(&grads, &pruned);
        assert_eq!(
            pruned,
            vec![1, 2],
            "the cancelling pair is the cheaper one to remove"
        );
        assert!(
            (start - 8.0).abs() < 1e-12 && (after - 0.02).abs() < 1e-12,
            "{start} {after}"
        );
        // Nothing to rearrange when all or nothing is kept.
        assert_eq!(rearrange(&[true; 4], &grads), vec![true; 4]);
        assert_eq!(rearrange(&[false; 4], &grads), vec![false; 4]);
    }

    proptest::proptest! {
        #[test]
        fn rearrangement_never_raises_the_correlated_loss(
            grads in proptest::collection::vec(proptest::collection::vec(-2.0f64..2.0, 6), 1..5),
            keep in proptest::collection::vec(proptest::bool::ANY, 6),
        ) {
            let out = rearrange(&keep, &grads);
            let pruned = |m: &[bool]| -> Vec<usize> { (0..m.len()).filter(|&j| !m[j]).collect() };
            proptest::prop_assert_eq!(pruned(&out).len(), pruned(&keep).len());
            // The start is the least important entries by the diagonal.
            let n = pruned(&keep).len();
            let mut order: Vec<usize> = (0..6).collect();
            let diag = |j: usize| grads.iter().map(|g| g[j] * g[j]).sum::<f64>();
            order.sort_by(|&a, &b| diag(a).total_cmp(&diag(b)).then(a.cmp(&b)));
            let start = correlated_loss(&grads, &order[..n]);
            proptest::prop_assert!(correlated_loss(&grads, &pruned(&out)) <= start + 1e-9);
        }
    }
}
