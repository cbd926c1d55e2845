//! # lopper-opt-bayes
//!
//! Model-based multi-objective optimizer plugins for lopper, on the Gaussian processes of
//! `lopper-gp`: the Bayesian searchers that Klein et al., "Structural Pruning of Pre-trained
//! Language Models via Neural Architecture Search" (arXiv 2405.02267), compare with
//! evolutionary and local search.
//!
//! | plugin | models | acquisition |
//! |---|---|---|
//! | [`ehvi`](Ehvi) | one GP per objective (or the objective in closed form, [`PassThrough`]) | expected hypervolume improvement: exact for 2 objectives, Monte-Carlo for more ([`acquisition`]) |
//! | [`ls-bo`](LsBo) | one GP on a fixed weighted sum of the normalised objectives | expected improvement |
//! | [`rs-bo`](RsBo) | one GP per objective | lower confidence bounds (κ = 0.5) under fresh random linear weights for every point (Paria et al. 2019) |
//! | [`parego`](ParEgo) | one GP on a random augmented Chebyshev scalarisation per ask (Knowles 2006) | expected improvement |
//!
//! All of them share ([`BoSettings`]):
//!
//! - **Initial design**: the upper bound, lower bound and mid-point of the space (the
//!   runner's initial design; points already suggested are not asked again), then
//!   `initial_random` random points.
//! - **Acquisition maximisation** over the discrete space: random candidates plus neighbours
//!   of the incumbents, then local search from the best few (never an issued point).
//! - **Batches and asynchrony** by kriging believer: trials still out, and points already
//!   chosen in the same ask, count as observed at the model's posterior mean.
//! - **Warm starts**: each model's hyper-parameters are kept in the state and start the next
//!   ask's fit, which is why a restored checkpoint asks exactly what the original would.
//! - **Limits**: spaces of more than `max_dims` (200) non-constant dimensions, such as LARGE,
//!   are refused with an error that names `local-search`, `nsga2`, `morea` and `random`.
//!
//! Objective values are minimised; infinite values (diverged evaluations) are stored as
//! `±f64::MAX` and modelled as the worst finite value observed.
//!
//! Configuration (all optional, unknown fields are an error), shared fields with their
//! defaults, then each plugin's own:
//!
//! ```json
//! {"initial_corners": true, "initial_random": 5, "candidates": 500, "local_starts": 5,
//!  "local_steps": 10, "neighbours": 20, "max_dims": 200,
//!  "fit": {"restarts": 3, "warm_restarts": 0, "max_iters": 60, "warm_max_iters": 20,
//!          "bounds": {"lengthscale": [0.01, 100.0], "signal_var": [0.05, 20.0],
//!                     "noise_var": [1e-6, 1.0]}}}
//! ehvi:   {"reference_point": null, "reference_margin": 0.1, "estimator": "auto",
//!          "mc_samples": 128, "pass_through": [{"objective": 1, "intercept": 0.0, "weights": [...]}]}
//! ls-bo:  {"weights": null}
//! rs-bo:  {"kappa": 0.5}
//! parego: {"rho": 0.05}
//! ```

pub mod acquisition;
mod config;
mod driver;
mod ehvi;
mod engine;
mod rsbo;
mod scalarised;
mod search;

pub use config::BoSettings;
pub use ehvi::{Ehvi, EhviConfig, Estimator, NAME as EHVI, PassThrough};
pub use engine::Observation;
pub use rsbo::{RS_BO, RsBo, RsBoConfig};
pub use scalarised::{LS_BO, LsBo, LsBoConfig, PAREGO, ParEgo, ParEgoConfig};

#[cfg(test)]
mod tests {
    use lopper_testkit::conformance::{final_regrets, median};
    use lopper_testkit::problem_by_name;

    // The baselines.
    use lopper_opt_nsga2 as _;
    use lopper_opt_random as _;

    /// The issue's claim at 100 evaluations, seeds 0–4, in the testkit's protocol (each
    /// optimizer with its own initial design; the `bayes_quality` bench prints the table, and
    /// another where every optimizer is handed the runner's design).
    #[test]
    #[ignore = "a few minutes in the test profile; the bayes_quality bench prints the table"]
    fn hundred_evaluations_beat_the_baselines() {
        for pname in ["zdt1", "zdt2", "dtlz2"] {
            let problem = problem_by_name(pname).unwrap();
            let med = |name: &str| {
                median(
                    &final_regrets(name, serde_json::Value::Null, problem.as_ref(), 100).unwrap(),
                )
            };
            let (ehvi, ls, rs) = (med(crate::EHVI), med(crate::LS_BO), med(crate::RS_BO));
            let (nsga2, random) = (med("nsga2"), med("random"));
            println!(
                "{pname}: ehvi {ehvi:.4} ls-bo {ls:.4} rs-bo {rs:.4} nsga2 {nsga2:.4} random {random:.4}"
            );
            assert!(ehvi < nsga2 && ehvi < random, "{pname}");
            assert!(ls < random && rs < random, "{pname}");
        }
    }
}
