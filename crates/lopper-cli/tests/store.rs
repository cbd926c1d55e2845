//! A study through the trial store with the real binaries as separate processes, on SQLite
//! and on the PostgreSQL server of `LOPPER_TEST_POSTGRES` (which `.ci/run` starts; under CI
//! its absence fails the test): a coordinator and three workers on a test problem whose
//! evaluation sleeps, one worker killed while it holds a trial, another paused for longer
//! than its lease, the coordinator killed and started again. The study must come out as an
//! uninterrupted threaded run with the same seed and the same trials in flight.

// Test helpers panic on a broken setup by design.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde::Deserialize;

mod common;
use common::{lopper, text};
use lopper::search::{Lease, StudyStatus, TrialStore};

const BUDGET: &str = "40";
const PARALLEL: &str = "2";
const SEED: &str = "7";
const OPTIMIZER: &str = "morea";
const DELAY_MS: &str = "300";
const LEASE: f64 = 1.5;

use lopper_testkit::stores::{store_urls as stores, unique_name};

/// What the test reads of `lopper study show --json`.
#[derive(Debug, Deserialize)]
struct Status {
    finished: bool,
    trials: Counts,
    refused: u64,
}

#[derive(Debug, Deserialize)]
struct Counts {
    told: u64,
    failed: u64,
}

/// What the test compares of a trial record.
#[derive(Debug, Deserialize, PartialEq)]
struct Told {
    id: u64,
    point: Vec<i64>,
    values: Vec<f64>,
}

/// `lopper study show --json`: the CLI's view once the processes are done.
fn status(url: &str, study: &str) -> Status {
    let o = lopper(&["study", "show", study, "--store", url, "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The study watched from the test's own connection while the processes run: a poll is a
/// query of milliseconds, not a process start (which on a loaded machine can outlast a
/// trial). Every failure prints the study's state and the tail of every process's log.
struct Watch {
    store: TrialStore,
    url: String,
    study: String,
    logs: PathBuf,
}

impl Watch {
    /// Waits (up to 60 s) for the coordinator to create `study`.
    fn new(url: &str, study: &str, logs: &Path) -> Self {
        let mut watch = Watch {
            store: TrialStore::open(&url.parse().unwrap()).unwrap(),
            url: url.to_string(),
            study: study.to_string(),
            logs: logs.to_path_buf(),
        };
        let created = watch.store.wait_for_study::<serde::de::IgnoredAny>(
            study,
            Duration::from_secs(60),
            Duration::from_millis(25),
        );
        if let Err(e) = created {
            watch.fail(&format!("the study to appear: {e}"));
        }
        watch
    }

    fn status(&mut self) -> StudyStatus {
        match self.store.status(&self.study) {
            Ok(s) => s,
            Err(e) => self.fail(&format!("the study's status: {e}")),
        }
    }

    /// Polls until `f` finds what it wants; fails at once if the study ends first.
    fn wait<T>(&mut self, what: &str, mut f: impl FnMut(&StudyStatus) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            let s = self.status();
            if let Some(v) = f(&s) {
                return v;
            }
            if s.finished {
                self.fail(&format!("{what}: the study ended first"));
            }
            if start.elapsed() > Duration::from_secs(60) {
                self.fail(&format!("{what}: not within 60 s"));
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// Waits for `child` to exit successfully.
    fn exit(&mut self, child: &mut Child, what: &str, timeout: Duration) {
        let start = Instant::now();
        loop {
            match child.try_wait().unwrap() {
                Some(code) if code.success() => return,
                Some(code) => self.fail(&format!("{what} exited with {code}")),
                None if start.elapsed() > timeout => {
                    self.fail(&format!("{what} still running after {timeout:?}"))
                }
                None => sleep(Duration::from_millis(25)),
            }
        }
    }

    /// Freezes (`SIGSTOP`) the worker holding a trial that `pick` chooses, and returns it
    /// (pid, trial, attempt) once the store shows it still holding that attempt while frozen:
    /// from then on it cannot record the trial. A worker that had recorded it in the
    /// meantime is thawed and another lease chosen.
    fn freeze_holder(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Lease) -> bool,
    ) -> (u32, u64, u32) {
        loop {
            let (pid, trial, attempt) = self.wait(what, |s| {
                s.leases
                    .iter()
                    .find(|l| l.expires_in > 0.0 && pick(l))
                    .map(|l| (pid_of(&l.worker), l.trial, l.attempt))
            });
            signal(pid, "-STOP");
            let held = self.status().leases.iter().any(|l| {
                (l.trial, l.attempt) == (trial, attempt)
                    && pid_of(&l.worker) == pid
                    && l.expires_in > 0.0
            });
            if held {
                return (pid, trial, attempt);
            }
            signal(pid, "-CONT");
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        let state = self.store.status(&self.study);
        let mut logs = String::new();
        let mut files: Vec<PathBuf> = fs::read_dir(&self.logs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let text = fs::read_to_string(&f).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(30)..];
            logs += &format!(
                "--- {} (last {} lines)\n{}\n",
                f.display(),
                tail.len(),
                tail.join("\n")
            );
        }
        panic!(
            "{} {}: timed out or failed waiting for {what}\nthe study: {state:#?}\n{logs}",
            self.url, self.study
        );
    }
}

/// The process id in a worker's name (`worker@HOST:PID:NANOS.N`).
fn pid_of(worker: &str) -> u32 {
    worker.split(':').nth(1).unwrap().parse().unwrap()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

/// `lopper ARGS` in the background, its output into `DIR/NAME.out` and `DIR/NAME.err`.
fn spawn(dir: &Path, name: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lopper"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join(format!("{name}.out"))).unwrap())
        .stderr(File::create(dir.join(format!("{name}.err"))).unwrap())
        .spawn()
        .unwrap()
}

fn read(path: PathBuf) -> String {
    fs::read_to_string(path).unwrap()
}

/// The coordinator's command line.
fn coordinator_args<'a>(url: &'a str, study: &'a str) -> Vec<&'a str> {
    vec![
        "bench-moo",
        "--optimizer",
        OPTIMIZER,
        "--seed",
        SEED,
        "--budget",
        BUDGET,
        "--parallel",
        PARALLEL,
        "--eval-delay-ms",
        DELAY_MS,
        "--store",
        url,
        "--study",
        study,
        "--lease-seconds",
        "1.5",
        "--max-attempts",
        "3",
        "--quiet",
    ]
}

/// The reference: the same search in threads of one process, uninterrupted.
fn threaded(dir: &Path) -> (Vec<Told>, String) {
    let run = dir.join("threaded");
    let o = lopper(&[
        "bench-moo",
        "--optimizer",
        OPTIMIZER,
        "--seed",
        SEED,
        "--budget",
        BUDGET,
        "--workers",
        PARALLEL,
        "--eval-delay-ms",
        "20",
        "--run-dir",
        run.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let told: Vec<Told> = lopper::search::read_trials(&run)
        .unwrap()
        .into_iter()
        .map(|t| Told {
            id: t.id,
            point: t.point.coords().to_vec(),
            values: t.values,
        })
        .collect();
    (told, text(&o.stdout))
}

#[test]
fn a_study_survives_killed_and_paused_workers_and_a_killed_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, reference_trace) = threaded(dir.path());
    let budget: u64 = BUDGET.parse().unwrap();
    assert_eq!(reference.len() as u64, budget);

    for (n, url) in stores(dir.path()).iter().enumerate() {
        let logs = dir.path().join(format!("store{n}"));
        fs::create_dir(&logs).unwrap();
        let study = unique_name("faults");
        let worker_args = ["worker", "--store", url, "--study", &study];

        let mut coordinator = spawn(&logs, "coordinator1", &coordinator_args(url, &study));
        let mut workers: BTreeMap<u32, (String, Child)> = BTreeMap::new();
        for i in 1..=3 {
            let name = format!("worker{i}");
            let child = spawn(&logs, &name, &worker_args);
            workers.insert(child.id(), (name, child));
        }

        let mut watch = Watch::new(url, &study, &logs);

        // kill -9 a worker in the middle of a first attempt. It is frozen first, and killed
        // only once the store shows it still holding the trial, so it cannot have recorded
        // it however the processes are scheduled.
        let (killed_pid, killed_trial, _) = watch.freeze_holder("a first attempt's lease", |l| {
            l.attempt == 1 && workers.contains_key(&pid_of(&l.worker))
        });
        let (_, mut child) = workers.remove(&killed_pid).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();

        // Freeze another while it holds a trial, for twice its lease, then let it go on.
        let (paused_pid, paused_trial, paused_attempt) = watch
            .freeze_holder("a second lease", |l| {
                l.trial != killed_trial && workers.contains_key(&pid_of(&l.worker))
            });
        sleep(Duration::from_secs_f64(2.0 * LEASE + 0.5));
        signal(paused_pid, "-CONT");

        // kill -9 the coordinator while the study is open, and start it again.
        let before = watch.status();
        if before.finished || before.trials.told >= budget {
            watch.fail("the coordinator's kill: the study ended first");
        }
        coordinator.kill().unwrap();
        coordinator.wait().unwrap();
        let mut coordinator = spawn(&logs, "coordinator2", &coordinator_args(url, &study));
        // A worker started late takes the killed one's place.
        let late = spawn(&logs, "worker4", &worker_args);
        workers.insert(late.id(), ("worker4".into(), late));

        watch.exit(
            &mut coordinator,
            "the second coordinator",
            Duration::from_secs(120),
        );
        for (name, child) in workers.values_mut() {
            watch.exit(child, name, Duration::from_secs(60));
        }

        // Every trial told once, in id order, with the values of the threaded run.
        let s = status(url, &study);
        assert!(s.finished, "{s:?}");
        assert_eq!(s.trials.told, budget, "{s:?}");
        assert_eq!(s.trials.failed, 0, "{s:?}");
        let o = lopper(&["study", "show", &study, "--store", url, "--trials"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let told: Vec<Told> = text(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            told, reference,
            "{url}: the trace differs from the threaded run"
        );
        // The coordinator that finished prints the same hypervolume trace.
        let trace = read(logs.join("coordinator2.out"));
        assert_eq!(trace, reference_trace, "{url}");

        // Each trial recorded exactly once over all workers, the killed worker's trial on a
        // later attempt, the paused worker's late result refused.
        let mut log = String::new();
        for i in 1..=4 {
            log += &read(logs.join(format!("worker{i}.err")));
        }
        let recorded: Vec<&str> = log.lines().filter(|l| l.ends_with(": recorded")).collect();
        assert_eq!(recorded.len() as u64, budget, "{url}:\n{log}");
        let killed_again = format!("trial {killed_trial} (attempt 2): recorded");
        assert!(
            log.contains(&killed_again),
            "{url}: no `{killed_again}` in\n{log}"
        );
        let refusal = format!(
            "trial {paused_trial} (attempt {paused_attempt}): refused, the lease was lost \
             meanwhile"
        );
        assert!(log.contains(&refusal), "{url}: no `{refusal}` in\n{log}");
        assert!(s.refused >= 1, "{s:?}");
        let paused_name = format!("worker{}", {
            (1..=3)
                .find(|i| {
                    // The paused worker is one of the first three; its summary says so.
                    read(logs.join(format!("worker{i}.err"))).contains(&refusal)
                })
                .unwrap()
        });
        let summary = read(logs.join(format!("{paused_name}.out")));
        assert!(summary.contains("1 refused"), "{summary}");
        eprintln!(
            "{url}: {} told, {} refused, trial {killed_trial} of the killed worker recorded on \
             attempt 2, trial {paused_trial} of the paused one refused",
            s.trials.told, s.refused
        );

        drop(watch);
        let o = lopper(&["study", "rm", &study, "--store", url]);
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
}

/// MO-ASHA through the store: two worker processes, one killed with `kill -9` while it holds
/// a trial. With one trial in flight the scheduler hears each (trial, fidelity) once, in the
/// same order as on a thread (the killed trial's second attempt gets the answers its first
/// had), so the trace is the threaded run's.
#[test]
fn mo_asha_promotes_and_stops_through_the_store_despite_a_killed_worker() {
    let dir = tempfile::tempdir().unwrap();
    let search = [
        "bench-moo",
        "--optimizer",
        "random",
        "--scheduler",
        "mo-asha",
        "--seed",
        "4",
        "--budget",
        "12",
        "--eval-delay-ms",
        "250",
        "--quiet",
    ];
    let mut threaded = search.to_vec();
    threaded.extend(["--workers", "1"]);
    let o = lopper(&threaded);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let reference = text(&o.stdout);

    for (n, url) in stores(dir.path()).iter().enumerate() {
        let logs = dir.path().join(format!("asha{n}"));
        fs::create_dir(&logs).unwrap();
        let study = unique_name("asha");
        let mut coordinator_args = search.to_vec();
        coordinator_args.extend([
            "--parallel",
            "1",
            "--store",
            url,
            "--study",
            &study,
            "--lease-seconds",
            "1.5",
        ]);
        let mut coordinator = spawn(&logs, "coordinator", &coordinator_args);
        let worker_args = ["worker", "--store", url, "--study", &study];
        let mut workers: BTreeMap<u32, Child> = BTreeMap::new();
        for i in 1..=2 {
            let child = spawn(&logs, &format!("worker{i}"), &worker_args);
            workers.insert(child.id(), child);
        }
        let mut watch = Watch::new(url, &study, &logs);
        // Kill the worker holding the third trial (frozen first: it cannot record it).
        let (victim, _, _) = watch.freeze_holder("trial 2's lease", |l| {
            l.trial == 2 && workers.contains_key(&pid_of(&l.worker))
        });
        signal(victim, "-KILL");
        let mut killed = workers.remove(&victim).unwrap();
        killed.wait().unwrap();

        watch.exit(
            &mut coordinator,
            "the coordinator",
            Duration::from_secs(120),
        );
        for (_, mut w) in workers {
            watch.exit(&mut w, "a worker", Duration::from_secs(30));
        }
        let s = status(url, &study);
        assert!(s.finished);
        assert_eq!((s.trials.told, s.trials.failed), (12, 0), "{url}");
        let trace = read(logs.join("coordinator.out"));
        assert_eq!(
            trace, reference,
            "{url}: the trace differs from the threaded run's"
        );
    }
}
