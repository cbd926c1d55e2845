//! Scoring sub-networks on a labelled split with the task's metric.

use burn::tensor::{Device, Int, Tensor, TensorData};
use lopper_core::Subnet;
use lopper_data::{BatchLabels, EncodedDataset, Evaluation, Label, Predictions, Task, TaskKind};
use lopper_model::{EncoderConfig, Mode, Network};

use crate::trainer::logits;
use crate::{Result, Targets, TrainError};

/// A batch of the data layer as the model takes it, with its targets (`None` when unlabelled).
pub fn model_batch(
    batch: &lopper_data::Batch,
    config: &EncoderConfig,
    device: &Device,
) -> Result<(lopper_model::Batch, Option<Targets>)> {
    let model = lopper_model::Batch::new(
        &batch.input_ids,
        Some(&batch.type_ids),
        Some(&batch.attention_mask),
        config,
        device,
    )?;
    let n = batch.len();
    let targets = match &batch.labels {
        BatchLabels::Classes(c) => {
            let v: Vec<i64> = c.iter().map(|&x| x as i64).collect();
            Some(Targets::Classes(Tensor::<1, Int>::from_data(
                TensorData::new(v, [n]),
                device,
            )))
        }
        BatchLabels::Scores(s) => Some(Targets::Scores(Tensor::<1>::from_data(
            TensorData::new(s.clone(), [n]),
            device,
        ))),
        BatchLabels::None => None,
    };
    Ok((model, targets))
}

/// A labelled split tokenised and batched once, on one device, ready to score any number of
/// sub-networks: what validation after each epoch and the search's `error` objective use.
pub struct Scorer {
    task: Task,
    batches: Vec<lopper_model::Batch>,
    labels: Vec<Label>,
    num_choices: usize,
    device: Device,
}

impl Scorer {
    /// Prepares `data` (which must be labelled) in batches of `batch_size` for a model of
    /// `config` on `device` (a device without autodiff: scoring needs no gradients).
    pub fn new(
        task: &Task,
        data: &EncodedDataset,
        config: &EncoderConfig,
        device: &Device,
        batch_size: usize,
    ) -> Result<Self> {
        let labels = data.labels().ok_or_else(|| TrainError::Unlabelled {
            task: task.name.clone(),
            split: "scored",
        })?;
        if labels.is_empty() {
            return Err(TrainError::Settings(format!(
                "the {} split to score on is empty",
                task.name
            )));
        }
        let mut batches = Vec::new();
        for b in data.batches(batch_size)? {
            batches.push(model_batch(&b, config, device)?.0);
        }
        Ok(Self {
            task: task.clone(),
            batches,
            labels,
            num_choices: data.num_choices(),
            device: device.clone(),
        })
    }

    /// Examples scored.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is nothing to score (never, once built).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// The predictions of `subnet` of `net`, run sliced. `net` must live on the scorer's device
    /// (see [`SuperNet::valid`](lopper_model::SuperNet::valid)); a pruned model scores its
    /// [`Network::whole`].
    pub fn predict(&self, net: &dyn Network, subnet: &Subnet) -> Result<Predictions> {
        self.predict_in(net, subnet, Mode::Sliced)
    }

    /// The predictions of `subnet` of `net`, run sliced or masked ([`Mode::Masked`]: every head
    /// and unit computed and the dropped ones zeroed, as the reference implementation does;
    /// the same predictions, at the cost of the whole network).
    pub fn predict_in(
        &self,
        net: &dyn Network,
        subnet: &Subnet,
        mode: Mode,
    ) -> Result<Predictions> {
        if net.device() != &self.device {
            return Err(TrainError::Settings(
                "the network and the scored split live on different devices".into(),
            ));
        }
        let regression = matches!(self.task.kind, TaskKind::Regression);
        let mut classes = Vec::with_capacity(self.labels.len());
        let mut scores = Vec::with_capacity(self.labels.len());
        for b in &self.batches {
            let z = logits(net, b, subnet, self.num_choices, mode)?;
            let [rows, cols] = z.dims();
            let values: Vec<f32> = z
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| TrainError::Logits(format!("{e:?}")))?;
            if regression {
                scores.extend(values.iter().step_by(cols.max(1)).map(|&v| f64::from(v)));
            } else {
                for r in 0..rows {
                    let row = &values[r * cols..(r + 1) * cols];
                    classes.push(argmax(row));
                }
            }
        }
        Ok(if regression {
            Predictions::Scores(scores)
        } else {
            Predictions::Classes(classes)
        })
    }

    /// The task's metric (and its companions) for `subnet`.
    pub fn score(&self, net: &dyn Network, subnet: &Subnet) -> Result<Evaluation> {
        self.score_in(net, subnet, Mode::Sliced)
    }

    /// The task's metric (and its companions) for `subnet`, run sliced or masked.
    pub fn score_in(&self, net: &dyn Network, subnet: &Subnet, mode: Mode) -> Result<Evaluation> {
        let p = self.predict_in(net, subnet, mode)?;
        Ok(lopper_data::evaluate(&self.task, &p, &self.labels)?)
    }
}

/// The index of the largest value (the first on ties; NaN never wins).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::argmax;

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
        assert_eq!(argmax(&[f32::NAN, -1.0, 2.0]), 2);
        assert_eq!(argmax(&[3.0]), 0);
    }
}
