//! # MO-ASHA
//!
//! Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
//! Tuning", MLSys 2020) with multi-objective promotion (Schmucker et al., "Multi-objective
//! Asynchronous Successive Halving", arXiv 2106.12639): results recorded at a rung are ordered
//! by non-dominated rank, then by crowding distance (larger first), then by trial id; a trial
//! reaching a rung goes on if it is among the best ⌈n/η⌉ of the n results recorded there so
//! far, itself included.
//!
//! Rungs sit at fidelities `grace_period · η^k` below `max_fidelity`. Registered as the
//! scheduler plugin `mo-asha`:
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `grace_period` | 1 | the lowest rung: every trial runs at least this far |
//! | `reduction_factor` | 3 | η: about 1/η of the trials at a rung go on to the next |
//! | `max_fidelity` | 27 | the fidelity of a completed trial (epochs, …) |

use std::collections::BTreeMap;

use lopper_core::{CoreError, Decision, Result, Scheduler, SchedulerPlugin, SchedulerSpec};
use lopper_pareto::{crowding_distance, non_dominated_sort};
use serde::{Deserialize, Serialize};

/// MO-ASHA's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MoAshaConfig {
    /// The lowest rung.
    pub grace_period: u32,
    /// η.
    pub reduction_factor: u32,
    /// The fidelity of a completed trial.
    pub max_fidelity: u32,
}

impl Default for MoAshaConfig {
    fn default() -> Self {
        Self {
            grace_period: 1,
            reduction_factor: 3,
            max_fidelity: 27,
        }
    }
}

impl MoAshaConfig {
    fn validate(&self) -> Result<()> {
        let bad = |m: &str| {
            Err(CoreError::Config {
                plugin: "mo-asha".into(),
                message: m.into(),
            })
        };
        if self.grace_period == 0 {
            return bad("grace_period must be at least 1");
        }
        if self.reduction_factor < 2 {
            return bad("reduction_factor must be at least 2");
        }
        if self.max_fidelity < self.grace_period {
            return bad("max_fidelity must be at least grace_period");
        }
        Ok(())
    }

    /// The rung fidelities: `grace_period · η^k < max_fidelity`.
    pub fn rungs(&self) -> Vec<u32> {
        let mut levels = Vec::new();
        let mut r = u64::from(self.grace_period);
        while r < u64::from(self.max_fidelity) {
            levels.push(r as u32);
            r *= u64::from(self.reduction_factor);
        }
        levels
    }
}

/// The MO-ASHA scheduler.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoAsha {
    config: MoAshaConfig,
    num_objectives: usize,
    /// Per rung fidelity, the results recorded there: trial id → values.
    rungs: BTreeMap<u32, BTreeMap<u64, Vec<f64>>>,
}

impl MoAsha {
    /// MO-ASHA with `config` for `num_objectives` objectives.
    pub fn new(config: MoAshaConfig, num_objectives: usize) -> Result<Self> {
        config.validate()?;
        let rungs = config
            .rungs()
            .into_iter()
            .map(|r| (r, BTreeMap::new()))
            .collect();
        Ok(Self {
            config,
            num_objectives,
            rungs,
        })
    }

    /// Results recorded at rung `fidelity`.
    pub fn recorded(&self, fidelity: u32) -> usize {
        self.rungs.get(&fidelity).map_or(0, BTreeMap::len)
    }
}

/// The position of `trial` when the rung's results are ordered best first.
fn position(results: &BTreeMap<u64, Vec<f64>>, trial: u64) -> usize {
    let ids: Vec<u64> = results.keys().copied().collect();
    let points: Vec<&[f64]> = results.values().map(Vec::as_slice).collect();
    let fronts = non_dominated_sort(&points);
    let mut order = Vec::with_capacity(ids.len());
    for front in &fronts.fronts {
        let crowding = crowding_distance(&points, front);
        let mut members: Vec<(usize, f64)> = front.iter().copied().zip(crowding).collect();
        members.sort_by(|a, b| b.1.total_cmp(&a.1).then(ids[a.0].cmp(&ids[b.0])));
        order.extend(members.into_iter().map(|(i, _)| ids[i]));
    }
    order
        .iter()
        .position(|&id| id == trial)
        .unwrap_or(order.len())
}

#[typetag::serde(name = "mo-asha")]
impl Scheduler for MoAsha {
    fn max_fidelity(&self) -> u32 {
        self.config.max_fidelity
    }

    fn report(&mut self, trial: u64, fidelity: u32, values: &[f64]) -> Result<Decision> {
        if values.len() != self.num_objectives {
            return Err(CoreError::ObjectiveCount {
                expected: self.num_objectives,
                found: values.len(),
            });
        }
        if let Some(&v) = values.iter().find(|v| v.is_nan()) {
            return Err(CoreError::NonFinite { trial, value: v });
        }
        if fidelity >= self.config.max_fidelity {
            return Ok(Decision::Stop);
        }
        let eta = self.config.reduction_factor as usize;
        let Some(results) = self.rungs.get_mut(&fidelity) else {
            return Ok(Decision::Continue);
        };
        // Clamped so that the state stays valid JSON (an infinity ties with ±f64::MAX).
        results.insert(
            trial,
            values.iter().map(|v| v.clamp(f64::MIN, f64::MAX)).collect(),
        );
        let keep = results.len().div_ceil(eta);
        Ok(if position(results, trial) < keep {
            Decision::Continue
        } else {
            Decision::Stop
        })
    }
}

fn build(spec: &SchedulerSpec) -> Result<Box<dyn Scheduler>> {
    let config: MoAshaConfig = spec.parse_config("mo-asha")?;
    Ok(Box::new(MoAsha::new(config, spec.num_objectives)?))
}

inventory::submit! {
    SchedulerPlugin::new(
        "mo-asha",
        "asynchronous successive halving with non-dominated sorting for promotion (MO-ASHA)",
        build,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rung_levels() {
        assert_eq!(MoAshaConfig::default().rungs(), [1, 3, 9]);
        let c = MoAshaConfig {
            grace_period: 2,
            reduction_factor: 2,
            max_fidelity: 16,
        };
        assert_eq!(c.rungs(), [2, 4, 8]);
        assert!(
            MoAsha::new(
                MoAshaConfig {
                    reduction_factor: 1,
                    ..c
                },
                2
            )
            .is_err()
        );
        assert!(
            MoAsha::new(
                MoAshaConfig {
                    max_fidelity: 1,
                    ..c
                },
                2
            )
            .is_err()
        );
    }

    #[test]
    fn keeps_the_best_third_at_a_rung() {
        let mut s = MoAsha::new(MoAshaConfig::default(), 2).unwrap();
        // The first result at a rung always goes on (it is the best 1 of 1).
        assert_eq!(s.report(0, 1, &[0.5, 0.5]).unwrap(), Decision::Continue);
        // A dominated second result: 2 recorded, keep ⌈2/3⌉ = 1, it is second → stop.
        assert_eq!(s.report(1, 1, &[0.6, 0.6]).unwrap(), Decision::Stop);
        // A dominating one goes on.
        assert_eq!(s.report(2, 1, &[0.1, 0.1]).unwrap(), Decision::Continue);
        // Fidelities between rungs always go on; the top fidelity ends the trial.
        assert_eq!(s.report(2, 2, &[0.1, 0.1]).unwrap(), Decision::Continue);
        assert_eq!(s.report(2, 27, &[0.1, 0.1]).unwrap(), Decision::Stop);
        assert_eq!(s.recorded(1), 3);
        assert!(s.report(3, 1, &[0.1]).is_err());
        assert!(s.report(3, 1, &[f64::NAN, 0.0]).is_err());
    }

    #[test]
    fn non_dominated_results_are_ordered_by_crowding() {
        let mut results = BTreeMap::new();
        results.insert(0, vec![0.0, 1.0]);
        results.insert(1, vec![0.5, 0.5]);
        results.insert(2, vec![1.0, 0.0]);
        results.insert(3, vec![0.9, 0.9]);
        // Boundary points of the first front are infinitely crowded: they come first.
        assert!(position(&results, 0) < 2 && position(&results, 2) < 2);
        assert_eq!(position(&results, 1), 2);
        assert_eq!(position(&results, 3), 3);
    }

    #[test]
    fn state_round_trips() {
        let mut s = MoAsha::new(MoAshaConfig::default(), 2).unwrap();
        s.report(4, 1, &[0.2, 0.3]).unwrap();
        let saved = lopper_core::save_scheduler(&s).unwrap();
        let back = lopper_core::load_scheduler(saved).unwrap();
        assert_eq!(back.max_fidelity(), 27);
    }
}
