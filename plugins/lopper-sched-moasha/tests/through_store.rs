//! MO-ASHA through a trial store: worker threads evaluate epoch by epoch and the
//! coordinator's scheduler answers each report from the store. With one trial in flight the
//! run is the threaded run, fidelity for fidelity; with several, every trial is recorded once
//! and the scheduler's promotions and stops show in the fidelities reached. On SQLite and on
//! the PostgreSQL server of `LOPPER_TEST_POSTGRES` (which `.ci/run` starts).

// Test helpers panic on a broken setup by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use common::Epochs;
use lopper_opt_random as _;
use lopper_sched_moasha as _;
use lopper_search::{Search, SearchConfig, SearchResult, StoreUrl, StudySettings, Worker};
use lopper_testkit::stores::{store_urls, unique_name as unique};
use lopper_testkit::{Zdt, ZdtKind};

/// The scheduler's highest fidelity, below the evaluator's default: it must win.
const MAX_FIDELITY: u32 = 9;

fn zdt1() -> Zdt {
    Zdt::with_size(ZdtKind::Zdt1, 5, 100).unwrap()
}

fn config() -> SearchConfig {
    let mut c = SearchConfig::new("random");
    c.seed = 5;
    c.max_evaluations = Some(30);
    c.scheduler = Some("mo-asha".into());
    c.scheduler_config = serde_json::json!({ "max_fidelity": MAX_FIDELITY, "grace_period": 1, "reduction_factor": 3 });
    c
}

fn stores(dir: &std::path::Path) -> Vec<StoreUrl> {
    store_urls(dir).iter().map(|u| u.parse().unwrap()).collect()
}

/// How long one stored study may take before the test fails (it takes about a second).
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

/// What a thread of [`stored`] ended with.
enum Ended {
    Coordinator(lopper_search::Result<SearchResult>),
    Worker(lopper_search::Result<usize>),
}

/// The study run by a coordinator and `workers` worker threads; what each worker recorded.
///
/// The threads are detached and report on a channel: a coordinator or worker that fails, or
/// a study that hangs, fails the test at once with the error or the study's state, instead
/// of leaving the others waiting for it forever.
fn stored(url: &StoreUrl, study: &str, parallel: usize, workers: usize) -> (SearchResult, usize) {
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..workers {
        let (tx, url, study) = (tx.clone(), url.clone(), study.to_string());
        std::thread::spawn(move || {
            let run = || -> lopper_search::Result<usize> {
                // Workers may start before their coordinator: they wait for the study.
                let mut store = lopper_search::TrialStore::open(&url)?;
                let (_, problem): (StudySettings, String) = store.wait_for_study(
                    &study,
                    std::time::Duration::from_secs(60),
                    std::time::Duration::from_millis(10),
                )?;
                assert_eq!(problem, "zdt1");
                let epochs = Epochs(Box::new(zdt1()));
                Ok(Worker::new(url.clone(), &study, &epochs).run()?.recorded)
            };
            let _ = tx.send(Ended::Worker(run()));
        });
    }
    {
        let (tx, url, study) = (tx.clone(), url.clone(), study.to_string());
        std::thread::spawn(move || {
            let problem = zdt1();
            let epochs = Epochs(Box::new(zdt1()));
            let settings = StudySettings {
                parallel,
                ..StudySettings::default()
            };
            let result = Search::new(&problem, &epochs, config())
                .study(url, &study, settings, &"zdt1")
                .and_then(|s| s.run());
            let _ = tx.send(Ended::Coordinator(result));
        });
    }
    drop(tx);
    let deadline = std::time::Instant::now() + DEADLINE;
    let (mut result, mut recorded, mut ended) = (None, 0, 0);
    while ended < workers + 1 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ended::Coordinator(r)) => {
                result = Some(r.unwrap_or_else(|e| panic!("{url} {study}: coordinator: {e}")))
            }
            Ok(Ended::Worker(r)) => {
                recorded += r.unwrap_or_else(|e| panic!("{url} {study}: worker: {e}"))
            }
            Err(why) => {
                let status = lopper_search::TrialStore::open(url).and_then(|mut s| s.status(study));
                let why = match why {
                    std::sync::mpsc::RecvTimeoutError::Timeout => {
                        format!("not ended in {DEADLINE:?}")
                    }
                    std::sync::mpsc::RecvTimeoutError::Disconnected => "panicked".into(),
                };
                panic!(
                    "{url} {study}: {} of {} threads {why}; the study: {status:#?}",
                    workers + 1 - ended,
                    workers + 1
                )
            }
        }
        ended += 1;
    }
    (result.expect("the coordinator ended"), recorded)
}

/// A told trial: id, point, fidelity reached, values.
type Told = (u64, Vec<i64>, Option<u32>, Vec<f64>);

fn trace(r: &SearchResult) -> Vec<Told> {
    r.records
        .iter()
        .map(|t| {
            (
                t.id,
                t.point.coords().to_vec(),
                t.fidelity,
                t.values.clone(),
            )
        })
        .collect()
}

#[test]
fn mo_asha_runs_through_the_store_as_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let problem = zdt1();
    let epochs = Epochs(Box::new(zdt1()));
    let threaded = Search::new(&problem, &epochs, config()).run().unwrap();
    let fidelities: Vec<Option<u32>> = threaded.records.iter().map(|t| t.fidelity).collect();
    assert!(fidelities.contains(&Some(1)), "{fidelities:?}");
    assert!(fidelities.contains(&Some(MAX_FIDELITY)), "{fidelities:?}");
    for url in stores(dir.path()) {
        // One trial in flight: the same decisions in the same order.
        let (one, recorded) = stored(&url, &unique("asha-1"), 1, 1);
        assert_eq!(recorded, 30, "{url}");
        assert_eq!(trace(&one), trace(&threaded), "{url}");

        // Three in flight, three workers: each trial recorded once, at a rung or at the end,
        // some stopped at the first rung and some promoted to the last.
        let (three, recorded) = stored(&url, &unique("asha-3"), 3, 3);
        assert_eq!(recorded, 30, "{url}");
        let ids: Vec<u64> = three.records.iter().map(|t| t.id).collect();
        assert_eq!(ids, (0..30).collect::<Vec<_>>());
        let reached: Vec<u32> = three.records.iter().map(|t| t.fidelity.unwrap()).collect();
        assert!(
            reached.iter().all(|f| [1, 3, 9].contains(f)),
            "{url}: {reached:?}"
        );
        assert!(
            reached.contains(&1) && reached.contains(&MAX_FIDELITY),
            "{url}: {reached:?}"
        );
    }
}
