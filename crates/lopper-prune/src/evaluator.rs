//! The evaluator a search of a trained super-network runs: decodes each trial's point into a
//! sub-network, measures it on every objective, and caches the result by sub-network (two
//! points of a space can decode to the same sub-network, and optimizers revisit points).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use lopper_core::{Objective, SearchSpace, Subnet, Trial};
use lopper_model::{Network, SuperNet};
use lopper_search::{EvalContext, Evaluator, Measurement, SearchError};

use crate::SubnetObjective;

/// Measures sub-networks of one super-network on a list of objectives.
pub struct SubnetEvaluator<'a> {
    space: &'a dyn SearchSpace,
    net: &'a SuperNet,
    objectives: Vec<Box<dyn SubnetObjective>>,
    cache: Mutex<HashMap<Subnet, Measurement>>,
    gate: RwLock<()>,
    hits: AtomicUsize,
}

impl<'a> SubnetEvaluator<'a> {
    /// Measures the sub-networks `space` decodes, of `net` (on a device without autodiff).
    pub fn new(
        space: &'a dyn SearchSpace,
        net: &'a SuperNet,
        objectives: Vec<Box<dyn SubnetObjective>>,
    ) -> Self {
        Self {
            space,
            net,
            objectives,
            cache: Mutex::new(HashMap::new()),
            gate: RwLock::new(()),
            hits: AtomicUsize::new(0),
        }
    }

    /// Trials answered from the cache.
    pub fn cache_hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// Measures `subnet` directly (no cache).
    pub fn measure(&self, subnet: &Subnet) -> crate::Result<Measurement> {
        measure_each(&self.objectives, subnet, |o| {
            // A timing runs alone; everything else may run side by side.
            if o.exclusive() {
                let _alone = self.gate.write().unwrap_or_else(|p| p.into_inner());
                o.measure(self.net, subnet)
            } else {
                let _shared = self.gate.read().unwrap_or_else(|p| p.into_inner());
                o.measure(self.net, subnet)
            }
        })
    }
}

/// Measures `subnet` of `net` on `objectives` as a search's evaluator measures a trial: the
/// values, and the information its trial log keeps (the sub-network, its counts, what each
/// objective logged). For networks that no search evaluates, e.g. a baseline's member with
/// weights of its own.
pub fn measure_subnet(
    objectives: &[Box<dyn SubnetObjective>],
    net: &dyn Network,
    subnet: &Subnet,
) -> crate::Result<Measurement> {
    measure_each(objectives, subnet, |o| o.measure(net, subnet))
}

fn measure_each(
    objectives: &[Box<dyn SubnetObjective>],
    subnet: &Subnet,
    mut run: impl FnMut(&dyn SubnetObjective) -> crate::Result<crate::Value>,
) -> crate::Result<Measurement> {
    let mut values = Vec::with_capacity(objectives.len());
    let mut info = serde_json::Map::new();
    info.insert("subnet".into(), subnet.to_string().into());
    info.insert("heads".into(), subnet.total_heads().into());
    info.insert("units".into(), subnet.total_units().into());
    info.insert("layers".into(), subnet.num_kept_layers().into());
    for o in objectives {
        let v = run(o.as_ref())?;
        values.push(v.value);
        if let serde_json::Value::Object(m) = v.info {
            info.extend(m);
        }
    }
    Ok(Measurement::new(values).with_info(serde_json::Value::Object(info)))
}

impl Evaluator for SubnetEvaluator<'_> {
    fn objectives(&self) -> Vec<Objective> {
        self.objectives.iter().map(|o| o.objective()).collect()
    }

    fn evaluate(
        &self,
        trial: &Trial,
        _ctx: &mut EvalContext<'_>,
    ) -> lopper_search::Result<Measurement> {
        let failed = |message: String| SearchError::Evaluation {
            trial: trial.id,
            message,
        };
        let subnet = self
            .space
            .decode(&trial.point)
            .map_err(|e| failed(e.to_string()))?;
        let cached = self
            .cache
            .lock()
            .map_err(|_| failed("the cache lock was poisoned".into()))?
            .get(&subnet)
            .cloned();
        if let Some(m) = cached {
            self.hits.fetch_add(1, Ordering::Relaxed);
            let mut m = m;
            if let serde_json::Value::Object(info) = &mut m.info {
                info.insert("cached".into(), true.into());
            }
            return Ok(m);
        }
        let m = self.measure(&subnet).map_err(|e| failed(e.to_string()))?;
        self.cache
            .lock()
            .map_err(|_| failed("the cache lock was poisoned".into()))?
            .insert(subnet, m.clone());
        Ok(m)
    }
}
