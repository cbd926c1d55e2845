//! The state and bookkeeping every Bayesian plugin shares: observations, outstanding trials,
//! the initial design, warm-start hyper-parameters, and model fitting.

use std::collections::HashSet;

use lopper_core::{
    CoreError, Evaluated, PendingTrials, Point, Result, SeededRng, Space, Trial, seeded_rng,
};
use lopper_gp::{Encoding, Gp, Hyper, TrainingData};
use serde::{Deserialize, Serialize};

use crate::BoSettings;

/// An evaluated point, its values (minimised) with infinities clamped to `±f64::MAX` so
/// that the state stays JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The point.
    pub point: Point,
    /// Its objective values.
    pub values: Vec<f64>,
}

/// The serialisable state shared by the plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Engine {
    pub(crate) rng: SeededRng,
    pending: PendingTrials,
    /// Trials asked or suggested and not yet told, in issue order.
    outstanding: Vec<Trial>,
    observations: Vec<Observation>,
    /// Warm starts of the hyper-parameter fits, one slot per model.
    hypers: Vec<Option<Hyper>>,
    /// Random points of the initial design issued so far.
    random_issued: usize,
    num_objectives: usize,
}

impl Engine {
    pub(crate) fn new(plugin: &str, num_objectives: usize, seed: u64) -> Result<Self> {
        lopper_core::check_objectives(plugin, num_objectives)?;
        Ok(Self {
            rng: seeded_rng(seed),
            pending: PendingTrials::new(),
            outstanding: Vec::new(),
            observations: Vec::new(),
            hypers: Vec::new(),
            random_issued: 0,
            num_objectives,
        })
    }

    pub(crate) fn num_objectives(&self) -> usize {
        self.num_objectives
    }

    pub(crate) fn observations(&self) -> &[Observation] {
        &self.observations
    }

    pub(crate) fn outstanding(&self) -> &[Trial] {
        &self.outstanding
    }

    /// The encoding of `space`, or the refusal of a space too large for a Gaussian process.
    pub(crate) fn encoding(
        &self,
        space: &dyn Space,
        settings: &BoSettings,
        plugin: &str,
    ) -> Result<Encoding> {
        let encoding = Encoding::new(space.dims());
        let dims = encoding.num_groups();
        if dims > settings.max_dims {
            return Err(CoreError::Unsupported(format!(
                "`{plugin}` fits Gaussian processes in every dimension and is meant for spaces of \
                 at most {} dimensions (such as SMALL, MEDIUM and LAYER); this space has {dims} \
                 (LARGE-like). Use `local-search`, `nsga2`, `morea` or `random` for it, or raise \
                 `max_dims` at the cost of slow asks",
                settings.max_dims
            )));
        }
        Ok(encoding)
    }

    /// Every point issued so far (told or outstanding).
    pub(crate) fn taken(&self) -> HashSet<Point> {
        self.observations
            .iter()
            .map(|o| o.point.clone())
            .chain(self.outstanding.iter().map(|t| t.point.clone()))
            .collect()
    }

    /// The next point of the initial design, if the design is not complete: the corners
    /// (unless disabled or already issued), then `initial_random` random points; random
    /// points also while fewer than two evaluations have been told.
    pub(crate) fn initial_point(
        &mut self,
        space: &dyn Space,
        settings: &BoSettings,
        taken: &HashSet<Point>,
    ) -> Option<Point> {
        if settings.initial_corners {
            for corner in [space.upper_bound(), space.lower_bound(), space.mid_point()] {
                if !taken.contains(&corner) {
                    return Some(corner);
                }
            }
        }
        if self.random_issued < settings.initial_random {
            self.random_issued += 1;
            return Some(space.sample(&mut self.rng));
        }
        (self.observations.len() < 2).then(|| space.sample(&mut self.rng))
    }

    /// Issues a trial for `point`.
    pub(crate) fn issue(&mut self, point: Point) -> Trial {
        let trial = self.pending.issue(point);
        self.outstanding.push(trial.clone());
        trial
    }

    /// Records told trials after checking the whole batch.
    pub(crate) fn tell(&mut self, done: &[Evaluated]) -> Result<()> {
        self.pending.complete_all(done, self.num_objectives)?;
        for d in done {
            self.outstanding.retain(|t| t.id != d.trial.id);
            self.observations.push(Observation {
                point: d.trial.point.clone(),
                values: d
                    .values
                    .iter()
                    .map(|v| v.clamp(f64::MIN, f64::MAX))
                    .collect(),
            });
        }
        Ok(())
    }

    /// The values of objective `j` of every observation, fit for a model: values that were
    /// infinite (stored as `±f64::MAX`) are replaced by the worst finite value observed.
    pub(crate) fn objective_column(&self, j: usize) -> Vec<f64> {
        clean(self.observations.iter().map(|o| o.values[j]).collect())
    }

    /// Every objective's [`Engine::objective_column`], per observation.
    pub(crate) fn clean_values(&self) -> Vec<Vec<f64>> {
        let cols: Vec<Vec<f64>> = (0..self.num_objectives)
            .map(|j| self.objective_column(j))
            .collect();
        (0..self.observations.len())
            .map(|i| cols.iter().map(|c| c[i]).collect())
            .collect()
    }

    /// Fits the model of slot `slot` to targets `y` of the observations (encoded rows `x`),
    /// warm-started from that slot's last fit, and keeps its hyper-parameters for the next.
    pub(crate) fn fit_model(
        &mut self,
        slot: usize,
        encoding: &Encoding,
        x: &[Vec<f64>],
        y: Vec<f64>,
        settings: &BoSettings,
        plugin: &str,
    ) -> Result<Gp> {
        if self.hypers.len() <= slot {
            self.hypers.resize(slot + 1, None);
        }
        let model_error = |e: lopper_gp::GpError| {
            CoreError::Unsupported(format!("`{plugin}`: Gaussian-process model failed: {e}"))
        };
        let data = TrainingData::new(encoding, x.to_vec(), y).map_err(model_error)?;
        let gp = lopper_gp::fit(
            &data,
            &settings.fit,
            self.hypers[slot].as_ref(),
            &mut self.rng,
        )
        .map_err(model_error)?;
        self.hypers[slot] = Some(gp.hyper().clone());
        Ok(gp)
    }

    /// Up to `k` observed points of the Pareto front, evenly spread along the first
    /// objective: where local search starts.
    pub(crate) fn front_points(&self, k: usize) -> Vec<Point> {
        let values: Vec<&[f64]> = self
            .observations
            .iter()
            .map(|o| o.values.as_slice())
            .collect();
        let mut front = lopper_pareto::non_dominated(&values);
        front.sort_by(|&a, &b| values[a][0].total_cmp(&values[b][0]).then(a.cmp(&b)));
        front.dedup_by(|a, b| self.observations[*a].point == self.observations[*b].point);
        let n = front.len();
        let k = k.min(n);
        (0..k)
            .map(|i| self.observations[front[i * n / k]].point.clone())
            .collect()
    }

    /// The warm-start hyper-parameters of each model slot.
    pub(crate) fn hypers(&self) -> &[Option<Hyper>] {
        &self.hypers
    }
}

/// `values` with `±f64::MAX` and non-finite entries replaced by the largest finite one (0
/// when there is none).
pub(crate) fn clean(mut values: Vec<f64>) -> Vec<f64> {
    let ok = |v: f64| v.is_finite() && v.abs() < f64::MAX;
    let worst = values
        .iter()
        .copied()
        .filter(|v| ok(*v))
        .fold(f64::NEG_INFINITY, f64::max);
    let worst = if worst.is_finite() { worst } else { 0.0 };
    for v in &mut values {
        if !ok(*v) {
            *v = worst;
        }
    }
    values
}

/// Per objective, the minimum and the range (1 where the range is 0) of `values`.
pub(crate) fn min_and_range(values: &[Vec<f64>], objectives: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; objectives];
    let mut hi = vec![f64::NEG_INFINITY; objectives];
    for v in values {
        for j in 0..objectives {
            lo[j] = lo[j].min(v[j]);
            hi[j] = hi[j].max(v[j]);
        }
    }
    let range = lo
        .iter()
        .zip(&hi)
        .map(|(l, h)| if h - l > 0.0 { h - l } else { 1.0 })
        .collect();
    let lo = lo
        .into_iter()
        .map(|l| if l.is_finite() { l } else { 0.0 })
        .collect();
    (lo, range)
}

/// A weight vector drawn uniformly from the probability simplex (normalised exponentials).
pub(crate) fn random_simplex(rng: &mut SeededRng, n: usize) -> Vec<f64> {
    use rand::RngExt;
    let e: Vec<f64> = (0..n).map(|_| rng.sample(rand_distr::Exp1)).collect();
    let sum: f64 = e.iter().sum();
    if sum > 0.0 {
        e.iter().map(|v| v / sum).collect()
    } else {
        vec![1.0 / n as f64; n]
    }
}

/// A standard normal draw.
pub(crate) fn standard_normal(rng: &mut SeededRng) -> f64 {
    use rand::RngExt;
    rng.sample(rand_distr::StandardNormal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_and_ranges() {
        assert_eq!(
            clean(vec![1.0, f64::MAX, 3.0, f64::INFINITY]),
            vec![1.0, 3.0, 3.0, 3.0]
        );
        assert_eq!(clean(vec![f64::MAX]), vec![0.0]);
        let (lo, range) = min_and_range(&[vec![1.0, 5.0], vec![3.0, 5.0]], 2);
        assert_eq!((lo, range), (vec![1.0, 5.0], vec![2.0, 1.0]));
        let w = random_simplex(&mut seeded_rng(1), 3);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12 && w.iter().all(|v| *v >= 0.0));
    }
}
