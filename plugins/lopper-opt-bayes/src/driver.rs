//! The ask loop every Bayesian plugin runs: initial design first, then model-based points,
//! with kriging believer for the trials still out and for the rest of a batch.
//!
//! Kriging believer (Ginsbourger, Le Riche and Carraro, "Kriging is well-suited to
//! parallelize optimization", 2010): a trial that has been asked but not told is treated as
//! if it had returned the model's posterior mean, so that the next point is chosen elsewhere.

use std::collections::HashSet;

use lopper_core::{Point, Result, Space, Trial};
use lopper_gp::{Encoding, Gp};

use crate::BoSettings;
use crate::engine::Engine;

/// One ask's models: built once, when the first model-based point is needed.
pub(crate) trait Proposer {
    /// Chooses the next point, not in `taken`, then believes the model's prediction at it.
    fn propose(
        &mut self,
        engine: &mut Engine,
        space: &dyn Space,
        encoding: &Encoding,
        taken: &HashSet<Point>,
    ) -> Result<Point>;
}

/// Asks `n` trials: initial-design points while the design lasts, then points of the
/// proposer made by `build` (which fits the models to the observations and believes the
/// outstanding trials). Callers run it on a copy of their engine and keep the copy only on
/// success, so that a failed ask leaves the state as it was.
pub(crate) fn ask_with<P: Proposer>(
    engine: &mut Engine,
    space: &dyn Space,
    n: usize,
    settings: &BoSettings,
    plugin: &str,
    build: impl FnOnce(&mut Engine, &Encoding) -> Result<P>,
) -> Result<Vec<Trial>> {
    let encoding = engine.encoding(space, settings, plugin)?;
    let mut taken = engine.taken();
    let mut build = Some(build);
    let mut proposer: Option<P> = None;
    let mut trials = Vec::with_capacity(n);
    for _ in 0..n {
        let point = match engine.initial_point(space, settings, &taken) {
            Some(p) => p,
            None => {
                if let Some(b) = build.take() {
                    proposer = Some(b(engine, &encoding)?);
                }
                match proposer.as_mut() {
                    Some(p) => p.propose(engine, space, &encoding, &taken)?,
                    None => space.sample(&mut engine.rng),
                }
            }
        };
        taken.insert(point.clone());
        trials.push(engine.issue(point));
    }
    Ok(trials)
}

/// The encoded observations and outstanding points of `engine`.
pub(crate) fn encoded(engine: &Engine, encoding: &Encoding) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let obs = engine
        .observations()
        .iter()
        .map(|o| encoding.encode(&o.point))
        .collect();
    let out = engine
        .outstanding()
        .iter()
        .map(|t| encoding.encode(&t.point))
        .collect();
    (obs, out)
}

/// Kriging believer: `gp` conditioned on its own posterior means at `rows`; returns the
/// new model and the means.
pub(crate) fn believe(gp: &Gp, rows: &[Vec<f64>], plugin: &str) -> Result<(Gp, Vec<f64>)> {
    if rows.is_empty() {
        return Ok((gp.clone(), Vec::new()));
    }
    let means: Vec<f64> = gp.predict(rows).iter().map(|p| p.mean).collect();
    let believed = gp.condition_on(rows, &means).map_err(|e| {
        lopper_core::CoreError::Unsupported(format!(
            "`{plugin}`: Gaussian-process model failed: {e}"
        ))
    })?;
    Ok((believed, means))
}
