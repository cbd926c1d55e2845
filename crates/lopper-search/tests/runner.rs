//! The runner on real plugins: budgets, parallel workers, initial design, resume, failures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lopper_core::{Dim, Evaluated, Objective, Optimizer, PendingTrials, Point, Space, Trial};
use lopper_opt_random as _;
use lopper_search::{EvalContext, Evaluator, Measurement, Search, SearchConfig, SearchError};

struct Grid(Vec<Dim>);

impl Space for Grid {
    fn dims(&self) -> &[Dim] {
        &self.0
    }
}

fn grid() -> Grid {
    Grid(vec![
        Dim::integer("a", 0, 20),
        Dim::integer("b", -5, 5),
        Dim::binary("c"),
    ])
}

/// Two conflicting objectives, optionally slow, optionally failing on one trial.
struct Toy {
    sleep: Duration,
    fail_on: Option<u64>,
    calls: AtomicUsize,
}

impl Toy {
    fn new() -> Self {
        Self {
            sleep: Duration::ZERO,
            fail_on: None,
            calls: AtomicUsize::new(0),
        }
    }
}

impl Evaluator for Toy {
    fn objectives(&self) -> Vec<Objective> {
        vec![
            Objective::minimize("cost", ""),
            Objective::maximize("gain", ""),
        ]
    }

    fn evaluate(&self, t: &Trial, _: &mut EvalContext<'_>) -> lopper_search::Result<Measurement> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.sleep);
        if self.fail_on == Some(t.id) {
            return Err(SearchError::Evaluation {
                trial: t.id,
                message: "boom".into(),
            });
        }
        let c = t.point.coords();
        let cost = c[0] as f64 + (c[1] as f64).abs() + c[2] as f64;
        let gain = (c[0] as f64).sqrt() + c[2] as f64;
        Ok(Measurement::new(vec![cost, gain]).with_info(serde_json::json!({ "c": c[2] })))
    }
}

fn config(budget: usize) -> SearchConfig {
    let mut c = SearchConfig::new("random");
    c.max_evaluations = Some(budget);
    c.seed = 11;
    c.reference_point = Some(vec![30.0, 0.0]);
    c
}

/// Counts evaluations running at once; each waits (up to a generous guard) until `target`
/// run together, so the count shows what the runner allows, not how fast the machine is.
struct Overlap {
    target: usize,
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Evaluator for Overlap {
    fn objectives(&self) -> Vec<Objective> {
        Toy::new().objectives()
    }

    fn evaluate(&self, t: &Trial, c: &mut EvalContext<'_>) -> lopper_search::Result<Measurement> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let t0 = Instant::now();
        while self.most.load(Ordering::SeqCst) < self.target
            && t0.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        let m = Toy::new().evaluate(t, c);
        self.running.fetch_sub(1, Ordering::SeqCst);
        m
    }
}

#[test]
fn workers_run_that_many_evaluations_at_once_and_no_more() {
    // The throughput this buys is measured by `cargo bench --bench runner`.
    let space = grid();
    for workers in [1, 2, 3] {
        let e = Overlap {
            target: workers,
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        };
        let mut c = config(24);
        c.workers = workers;
        let r = Search::new(&space, &e, c).run().unwrap();
        assert_eq!(r.records.len(), 24);
        assert_eq!(e.most.load(Ordering::SeqCst), workers, "{workers} workers");
    }
}

#[test]
fn results_are_told_in_trial_id_order_with_several_workers() {
    let space = grid();
    let toy = Toy {
        sleep: Duration::from_millis(2),
        ..Toy::new()
    };
    let mut c = config(30);
    c.workers = 3;
    let r = Search::new(&space, &toy, c).run().unwrap();
    let ids: Vec<u64> = r.records.iter().map(|r| r.id).collect();
    assert_eq!(ids, (0..30).collect::<Vec<_>>());
}

/// An optimizer whose every point records how many results it had been told when it was
/// asked: its trace shows exactly how asks and tells were interleaved.
#[derive(serde::Serialize, serde::Deserialize)]
struct TellCounter {
    pending: PendingTrials,
    told: i64,
    asked: i64,
}

#[typetag::serde(name = "test-tell-counter")]
impl Optimizer for TellCounter {
    fn ask(&mut self, _: &dyn Space, n: usize) -> lopper_core::Result<Vec<Trial>> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(
                self.pending
                    .issue(Point(vec![self.told % 21, self.asked % 11 - 5, 0])),
            );
            self.asked += 1;
        }
        Ok(out)
    }

    fn tell(&mut self, done: &[Evaluated]) -> lopper_core::Result<()> {
        self.told += done.len() as i64;
        self.pending.complete_all(done, 2)
    }
}

/// Sleeps longer on trials whose id is `slow` modulo 3, so that later trials overtake them.
struct Staggered {
    slow: u64,
}

impl Evaluator for Staggered {
    fn objectives(&self) -> Vec<Objective> {
        Toy::new().objectives()
    }

    fn evaluate(&self, t: &Trial, c: &mut EvalContext<'_>) -> lopper_search::Result<Measurement> {
        let ms = if t.id % 3 == self.slow { 12 } else { 1 };
        std::thread::sleep(Duration::from_millis(ms));
        Toy::new().evaluate(t, c)
    }
}

#[test]
fn the_trace_does_not_depend_on_the_order_evaluations_finish_in() {
    let space = grid();
    let run = |slow: u64| {
        let mut c = config(30);
        c.workers = 3;
        let optimizer = TellCounter {
            pending: PendingTrials::new(),
            told: 0,
            asked: 0,
        };
        let r = Search::new(&space, &Staggered { slow }, c)
            .with_optimizer(Box::new(optimizer))
            .run()
            .unwrap();
        r.records
            .iter()
            .map(|t| (t.id, t.point.clone()))
            .collect::<Vec<_>>()
    };
    let first = run(0);
    // Trial k ≥ 3 is asked right after trial k − 3 is told: k − 2 results told.
    for (id, point) in &first {
        assert_eq!(point.0[0], id.saturating_sub(2) as i64 % 21, "trial {id}");
    }
    assert_eq!(run(1), first);
    assert_eq!(run(2), first);
}

#[test]
fn initial_design_comes_first_and_maximised_objectives_are_turned_around() {
    let space = grid();
    let toy = Toy::new();
    let mut c = config(10);
    c.initial_design = true;
    let r = Search::new(&space, &toy, c).run().unwrap();
    let first: Vec<&Point> = r.records.iter().take(3).map(|r| &r.point).collect();
    assert_eq!(
        first,
        [
            &Point(vec![20, 5, 1]),
            &Point(vec![0, -5, 0]),
            &Point(vec![10, 0, 1])
        ]
    );
    // The gain objective is maximised: the front keeps the high-gain, high-cost upper bound.
    assert!(r.front.contains(&0));
    // Values are logged in their own orientation.
    assert!(r.records[0].values[1] > 0.0);
    let trace = r.hypervolume_trace.unwrap();
    assert_eq!(trace.len(), 10);
    assert!(trace.windows(2).all(|w| w[1] >= w[0]));
}

#[test]
fn wall_clock_budget_stops_asking() {
    let space = grid();
    // No time at all: nothing is asked.
    let toy = Toy::new();
    let mut c = config(1_000);
    c.max_evaluations = None;
    c.max_seconds = Some(0.0);
    let r = Search::new(&space, &toy, c).run().unwrap();
    assert_eq!(r.stop, lopper_search::StopReason::WallClock);
    assert!(r.records.is_empty());
    // One evaluation outlasts the budget: it finishes and is kept, and nothing more is asked.
    let slow = Toy {
        sleep: Duration::from_millis(1_100),
        ..Toy::new()
    };
    let mut c = config(1_000);
    c.max_evaluations = None;
    c.max_seconds = Some(1.0);
    let r = Search::new(&space, &slow, c).run().unwrap();
    assert_eq!(r.stop, lopper_search::StopReason::WallClock);
    assert_eq!(r.records.len(), 1);
    assert_eq!(slow.calls.load(Ordering::SeqCst), 1);
    // A budget of evaluations ends first when the clock is generous.
    let mut c = config(7);
    c.max_seconds = Some(1e6);
    let r = Search::new(&space, &toy, c).run().unwrap();
    assert_eq!(r.stop, lopper_search::StopReason::Evaluations);
    assert_eq!(r.records.len(), 7);
}

#[test]
fn a_failing_evaluation_stops_the_search_and_keeps_what_finished() {
    let dir = tempfile::tempdir().unwrap();
    let space = grid();
    let toy = Toy {
        fail_on: Some(4),
        ..Toy::new()
    };
    let err = Search::new(&space, &toy, config(10))
        .run_dir(dir.path())
        .run()
        .unwrap_err();
    assert!(
        err.to_string().contains("trial 4") && err.to_string().contains("boom"),
        "{err}"
    );
    assert_eq!(lopper_search::read_trials(dir.path()).unwrap().len(), 4);
}

#[test]
fn bad_settings_are_refused() {
    let space = grid();
    let toy = Toy::new();
    let mut c = config(5);
    c.workers = 0;
    assert!(matches!(
        Search::new(&space, &toy, c).run(),
        Err(SearchError::Settings(_))
    ));
    let mut c = config(5);
    c.max_evaluations = None;
    assert!(Search::new(&space, &toy, c).run().is_err());
    let mut c = config(5);
    c.reference_point = Some(vec![1.0]);
    assert!(Search::new(&space, &toy, c).run().is_err());
    let c = SearchConfig {
        optimizer: "nope".into(),
        ..config(5)
    };
    let err = Search::new(&space, &toy, c).run().unwrap_err().to_string();
    assert!(err.contains("known optimizers: "), "{err}");
}

#[test]
fn a_resumed_run_continues_where_it_stopped_and_matches_a_straight_one() {
    let dir = tempfile::tempdir().unwrap();
    let space = grid();
    let straight = Search::new(&space, &Toy::new(), config(40)).run().unwrap();

    let first = Search::new(&space, &Toy::new(), config(15))
        .run_dir(dir.path())
        .run()
        .unwrap();
    assert_eq!(first.records.len(), 15);
    let toy = Toy::new();
    let second = Search::new(&space, &toy, config(40))
        .run_dir(dir.path())
        .run()
        .unwrap();
    assert_eq!(second.resumed, 15);
    assert_eq!(
        toy.calls.load(Ordering::SeqCst),
        25,
        "finished trials are not evaluated again"
    );
    let points = |r: &lopper_search::SearchResult| -> Vec<Point> {
        r.records.iter().map(|t| t.point.clone()).collect()
    };
    assert_eq!(points(&second), points(&straight));
    assert_eq!(second.front, straight.front);
    assert_eq!(second.hypervolume_trace, straight.hypervolume_trace);

    // The same folder with another seed is refused.
    let c = SearchConfig {
        seed: 12,
        ..config(40)
    };
    let err = Search::new(&space, &Toy::new(), c)
        .run_dir(dir.path())
        .run()
        .unwrap_err();
    assert!(err.to_string().contains("seed 11"), "{err}");
}

#[test]
fn a_start_that_failed_before_its_first_ask_does_not_block_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let space = grid();
    let bad = SearchConfig {
        optimizer_config: serde_json::json!({"populaton": 3}),
        ..config(5)
    };
    let bad = SearchConfig {
        optimizer: "nsga2-missing".into(),
        ..bad
    };
    assert!(
        Search::new(&space, &Toy::new(), bad)
            .run_dir(dir.path())
            .run()
            .is_err()
    );
    let r = Search::new(&space, &Toy::new(), config(5))
        .run_dir(dir.path())
        .run()
        .unwrap();
    assert_eq!(r.records.len(), 5);
}

#[test]
fn an_empty_domain_is_a_settings_error() {
    let space = Grid(vec![Dim::integer("a", 3, 2)]);
    let err = Search::new(&space, &Toy::new(), config(5))
        .run()
        .unwrap_err()
        .to_string();
    assert!(err.contains("dimension `a`"), "{err}");
}
