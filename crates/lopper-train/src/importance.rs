//! Gradients of the task loss with respect to head and unit masks: the importance scores of the
//! pruning baselines (Michel et al., "Are Sixteen Heads Really Better than One?", 2019: the
//! mean absolute gradient of each head's mask; Kwon et al., "A Fast Post-Training Pruning
//! Framework for Transformers", 2022: the empirical Fisher, the mean squared gradient of each
//! head's and unit's mask).

use lopper_model::{Batch, Masks, ModelError, SuperNet};

use crate::trainer::task_logits;
use crate::{Result, Targets, TrainError, task_loss};

/// Per-layer gradient statistics of every head and FFN unit mask, accumulated over batches.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskGradients {
    /// `heads[l][h]`: the mean over batches of `|∂L/∂m|` (Michel et al.'s head importance).
    pub heads_abs: Vec<Vec<f64>>,
    /// `heads[l][h]`: the mean over batches of `(∂L/∂m)²` (the empirical Fisher).
    pub heads_sq: Vec<Vec<f64>>,
    /// `units[l][u]`: the mean over batches of `|∂L/∂m|`.
    pub units_abs: Vec<Vec<f64>>,
    /// `units[l][u]`: the mean over batches of `(∂L/∂m)²`.
    pub units_sq: Vec<Vec<f64>>,
    /// `head_batches[l][b][h]`: the gradient of batch `b` (what Kwon et al.'s mask
    /// rearrangement correlates).
    pub head_batches: Vec<Vec<Vec<f64>>>,
    /// `unit_batches[l][b][u]`: the gradient of batch `b`.
    pub unit_batches: Vec<Vec<Vec<f64>>>,
    /// How many batches were seen.
    pub batches: usize,
}

/// The gradients of the mean task loss of each batch with respect to masks set to `heads` and
/// `units` (1 keeps a head or unit, 0 removes it), averaged over `batches`. `net` must live on
/// an autodiff device, and the batches and targets on the same one; the weights receive no
/// update. For a Fisher over single examples, give batches of one.
pub fn mask_gradients(
    net: &SuperNet,
    batches: &[(Batch, Targets)],
    heads: &[Vec<f32>],
    units: &[Vec<f32>],
    num_choices: usize,
) -> Result<MaskGradients> {
    if batches.is_empty() {
        return Err(TrainError::Settings(
            "mask gradients need at least one batch".into(),
        ));
    }
    let zeros =
        |m: &[Vec<f32>]| -> Vec<Vec<f64>> { m.iter().map(|v| vec![0.0; v.len()]).collect() };
    let mut g = MaskGradients {
        heads_abs: zeros(heads),
        heads_sq: zeros(heads),
        units_abs: zeros(units),
        units_sq: zeros(units),
        head_batches: vec![Vec::with_capacity(batches.len()); heads.len()],
        unit_batches: vec![Vec::with_capacity(batches.len()); units.len()],
        batches: batches.len(),
    };
    for (batch, targets) in batches {
        let masks = Masks::from_values(heads, units, net.device(), true);
        let out = net.forward_with_masks(batch, &masks)?;
        let logits = task_logits(out, net.config().head, num_choices)?;
        let grads = task_loss(logits, targets).backward();
        let add = |ts: &[burn::tensor::Tensor<1>],
                   abs: &mut [Vec<f64>],
                   sq: &mut [Vec<f64>],
                   per_batch: &mut [Vec<Vec<f64>>]|
         -> Result<()> {
            for (l, t) in ts.iter().enumerate() {
                let grad = t.grad(&grads).ok_or_else(|| {
                    TrainError::Settings(
                        "no gradient reached the masks: is the network on an autodiff device?"
                            .into(),
                    )
                })?;
                let values: Vec<f32> =
                    grad.into_data()
                        .convert::<f32>()
                        .try_to_vec()
                        .map_err(|source| ModelError::Data {
                            what: "a mask gradient".into(),
                            source,
                        })?;
                for (i, v) in values.iter().enumerate() {
                    let v = f64::from(*v);
                    abs[l][i] += v.abs();
                    sq[l][i] += v * v;
                }
                per_batch[l].push(values.iter().map(|&v| f64::from(v)).collect());
            }
            Ok(())
        };
        add(
            &masks.heads,
            &mut g.heads_abs,
            &mut g.heads_sq,
            &mut g.head_batches,
        )?;
        add(
            &masks.units,
            &mut g.units_abs,
            &mut g.units_sq,
            &mut g.unit_batches,
        )?;
    }
    let n = batches.len() as f64;
    for m in [
        &mut g.heads_abs,
        &mut g.heads_sq,
        &mut g.units_abs,
        &mut g.units_sq,
    ] {
        m.iter_mut().flatten().for_each(|x| *x /= n);
    }
    Ok(g)
}

/// Michel et al.'s iterative head pruning, without retraining: score every remaining head by
/// the mean `|∂L/∂m|` of its mask over `batches`, normalise the scores layer by layer (each
/// layer's vector to unit L2 norm, as the paper does), remove the `fraction` of the remaining
/// heads that score lowest (at least one), and score again with them masked out, until no head
/// is left. Returns the kept heads of every layer after each step, the whole network first: a
/// nested sequence, each a member of the method's front. Ties are broken by layer, then head.
/// `progress` hears of each step done (its number from 1, and the heads left).
pub fn prune_heads_iteratively(
    net: &SuperNet,
    batches: &[(Batch, Targets)],
    fraction: f64,
    num_choices: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Vec<Vec<usize>>>> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(TrainError::Settings(format!(
            "the fraction of heads pruned per step must lie in (0, 1), not {fraction}"
        )));
    }
    let c = net.config();
    let (l, h, n) = (c.num_layers, c.num_heads, c.intermediate_size);
    let mut heads = vec![vec![1.0f32; h]; l];
    let units = vec![vec![1.0f32; n]; l];
    let kept = |m: &[Vec<f32>]| -> Vec<Vec<usize>> {
        m.iter()
            .map(|row| (0..row.len()).filter(|&i| row[i] > 0.0).collect())
            .collect()
    };
    let mut steps = vec![kept(&heads)];
    let mut remaining = l * h;
    while remaining > 0 {
        let g = mask_gradients(net, batches, &heads, &units, num_choices)?;
        let mut scored: Vec<(f64, usize, usize)> = Vec::with_capacity(remaining);
        for (layer, scores) in g.heads_abs.iter().enumerate() {
            let norm = scores
                .iter()
                .enumerate()
                .filter(|&(i, _)| heads[layer][i] > 0.0)
                .map(|(_, s)| s * s)
                .sum::<f64>()
                .sqrt();
            for (i, s) in scores.iter().enumerate() {
                if heads[layer][i] > 0.0 {
                    let s = if norm > 0.0 { s / norm } else { 0.0 };
                    scored.push((s, layer, i));
                }
            }
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let k = ((fraction * remaining as f64).round() as usize).clamp(1, remaining);
        for &(_, layer, i) in &scored[..k] {
            heads[layer][i] = 0.0;
        }
        remaining -= k;
        steps.push(kept(&heads));
        progress(steps.len() - 1, remaining);
    }
    Ok(steps)
}
