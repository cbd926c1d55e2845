//! Throughput of the search runner with one and with two workers on an evaluation that
//! sleeps 40 ms (the speed-up parallel workers buy; the tests check only that the runner
//! runs that many at once). One JSON line per case:
//! `{"bench":"runner","workers":N,"evaluations":24,"seconds":…,"per_second":…,"speedup":…}`.

// A benchmark panics on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use lopper_core::{Dim, Objective, Space, Trial};
use lopper_opt_random as _;
use lopper_search::{EvalContext, Evaluator, Measurement, Search, SearchConfig};

struct Grid(Vec<Dim>);

impl Space for Grid {
    fn dims(&self) -> &[Dim] {
        &self.0
    }
}

struct Sleepy;

impl Evaluator for Sleepy {
    fn objectives(&self) -> Vec<Objective> {
        vec![Objective::minimize("a", ""), Objective::minimize("b", "")]
    }

    fn evaluate(&self, t: &Trial, _: &mut EvalContext<'_>) -> lopper_search::Result<Measurement> {
        std::thread::sleep(Duration::from_millis(40));
        let c = t.point.coords();
        Ok(Measurement::new(vec![c[0] as f64, -(c[0] as f64)]))
    }
}

fn main() {
    let space = Grid(vec![Dim::integer("a", 0, 20)]);
    let mut one = None;
    for workers in [1, 2] {
        let mut c = SearchConfig::new("random");
        c.max_evaluations = Some(24);
        c.workers = workers;
        let t0 = Instant::now();
        let r = Search::new(&space, &Sleepy, c).run().unwrap();
        let seconds = t0.elapsed().as_secs_f64();
        let base = *one.get_or_insert(seconds);
        println!(
            "{{\"bench\":\"runner\",\"workers\":{workers},\"evaluations\":{},\"seconds\":{seconds:.4},\"per_second\":{:.2},\"speedup\":{:.3}}}",
            r.records.len(),
            r.records.len() as f64 / seconds,
            base / seconds
        );
    }
}
