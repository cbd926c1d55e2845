//! The built-in objectives on a tiny BERT and the RTE fixture, a user-defined objective through
//! the registry, and the evaluator inside a real search (cache, trial log information).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use lopper_core::{Objective, Point, SearchSpace, Subnet, Trial};
use lopper_data::{EncodedDataset, GlueTask, Split, TextTokenizer};
use lopper_model::{
    EncoderConfig, Family, HeadKind, Network, SuperNet, dense_params, macs, paper_params,
};
use lopper_opt_random as _;
use lopper_prune::{
    ObjectiveContext, ObjectivePlugin, ObjectiveSpec, PruneError, SubnetEvaluator, SubnetObjective,
    Value, objective_plugins,
};
use lopper_search::{EvalContext, Evaluator, Search, SearchConfig};
use lopper_space::{SpaceConfig, SpaceKind};
use lopper_train::Scorer;

const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", "the", "won", "is", "in", "a", "workers", "was",
    "team", "storm", "doctor", "coast", "lost", "missed",
];

fn config() -> EncoderConfig {
    EncoderConfig {
        family: Family::Bert,
        vocab_size: VOCAB.len(),
        hidden_size: 16,
        num_layers: 2,
        num_heads: 4,
        intermediate_size: 24,
        max_positions: 40,
        type_vocab_size: 2,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
        head: HeadKind::SequenceClassification,
        num_labels: 2,
    }
}

struct Setup {
    net: SuperNet,
    space: Box<dyn SearchSpace>,
    ctx: ObjectiveContext,
}

fn setup() -> Setup {
    let tok = tempfile::tempdir().unwrap();
    std::fs::write(tok.path().join("vocab.txt"), VOCAB.join("\n")).unwrap();
    let t = TextTokenizer::from_dir(tok.path(), 32).unwrap();
    let glue = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../lopper-data/tests/fixtures/glue");
    let dev = GlueTask::Rte.read(&glue, Split::Train).unwrap();
    let data = EncodedDataset::new(&dev, &t).unwrap();
    let device = lopper_model::default_device();
    let net = SuperNet::random(config(), &device, 3).unwrap();
    let scorer = Scorer::new(&GlueTask::Rte.task(), &data, &config(), &device, 4).unwrap();
    let space = SpaceConfig::new(SpaceKind::Small)
        .build(config().arch())
        .unwrap();
    Setup {
        net,
        space,
        ctx: ObjectiveContext {
            config: config(),
            device,
            validation: Some(Arc::new(scorer)),
        },
    }
}

fn build(s: &Setup, spec: &str) -> Box<dyn SubnetObjective> {
    ObjectiveSpec::parse(spec).unwrap().build(&s.ctx).unwrap()
}

/// A user-defined objective: the number of kept heads.
struct Heads;

impl SubnetObjective for Heads {
    fn objective(&self) -> Objective {
        Objective::minimize("heads", "heads")
    }
    fn measure(&self, _net: &dyn Network, subnet: &Subnet) -> lopper_prune::Result<Value> {
        Ok(Value::plain(subnet.total_heads() as f64))
    }
}

fn build_heads(
    _ctx: &ObjectiveContext,
    _config: &serde_json::Value,
) -> lopper_prune::Result<Box<dyn SubnetObjective>> {
    Ok(Box::new(Heads))
}

inventory::submit! {
    ObjectivePlugin { name: "test-heads", summary: "kept heads (a test plugin)", build: build_heads }
}

#[test]
fn the_registry_holds_the_built_ins_and_a_plugin_of_ours() {
    let s = setup();
    let names: Vec<&str> = objective_plugins().iter().map(|p| p.name).collect();
    for n in ["error", "latency", "macs", "params", "test-heads"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let full = s.space.decode(&s.space.largest()).unwrap();
    let heads = build(&s, "test-heads");
    assert_eq!(heads.measure(&s.net, &full).unwrap().value, 8.0);
    let err = match ObjectiveSpec::parse("nope").unwrap().build(&s.ctx) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an unknown objective was built"),
    };
    assert!(
        err.contains("unknown objective `nope`") && err.contains("params"),
        "{err}"
    );
    for bad in [
        r#"params={"count":"tiny"}"#,
        r#"macs={"seq":3}"#,
        "latency={not json",
        r#"error={"x":1}"#,
    ] {
        let built = ObjectiveSpec::parse(bad).and_then(|s2| s2.build(&s.ctx));
        assert!(matches!(built, Err(PruneError::Objective { .. })), "{bad}");
    }
    // `error` needs a validation split.
    let mut ctx = s.ctx.clone();
    ctx.validation = None;
    assert!(ObjectiveSpec::parse("error").unwrap().build(&ctx).is_err());
}

#[test]
fn size_objectives_count_as_the_model_crate_does() {
    let s = setup();
    let c = config();
    let full = s.space.decode(&s.space.largest()).unwrap();
    let small = s.space.decode(&s.space.smallest()).unwrap();
    let mid = s.space.decode(&Point(vec![1, 2, 12])).unwrap();
    let params = build(&s, "params");
    let dense = build(&s, r#"params={"count":"dense"}"#);
    let absolute = build(&s, r#"params={"relative":false}"#);
    assert_eq!(params.measure(&s.net, &full).unwrap().value, 1.0);
    for sub in [&small, &mid] {
        let p = params.measure(&s.net, sub).unwrap();
        assert_eq!(
            p.value,
            paper_params(&c, sub) as f64 / paper_params(&c, &full) as f64
        );
        assert_eq!(p.info["dense_params"], dense_params(&c, sub));
        let d = dense.measure(&s.net, sub).unwrap().value;
        assert_eq!(
            d,
            dense_params(&c, sub) as f64 / dense_params(&c, &full) as f64
        );
        assert_eq!(
            absolute.measure(&s.net, sub).unwrap().value,
            paper_params(&c, sub) as f64
        );
        assert!(p.value < 1.0);
    }
    let m = build(&s, r#"macs={"seq_len":64}"#);
    let f = build(&s, r#"macs={"seq_len":64,"flops":true}"#);
    assert_eq!(m.objective().name, "macs");
    assert_eq!(f.objective().name, "flops");
    assert_eq!(
        m.measure(&s.net, &mid).unwrap().value,
        macs(&c, &mid, 64) as f64
    );
    assert_eq!(
        f.measure(&s.net, &mid).unwrap().value,
        2.0 * macs(&c, &mid, 64) as f64
    );
}

#[test]
fn error_is_one_minus_the_metric_and_latency_reports_its_spread() {
    let s = setup();
    let full = s.space.decode(&s.space.largest()).unwrap();
    let error = build(&s, "error");
    let e = error.measure(&s.net, &full).unwrap();
    let acc = s
        .ctx
        .validation
        .as_ref()
        .unwrap()
        .score(&s.net, &full)
        .unwrap()
        .score;
    assert_eq!(e.value, 1.0 - acc);
    assert_eq!(e.info["accuracy"], acc);
    // Masked evaluation (the reference's way) predicts the same classes as sliced, for a
    // sub-network that drops heads, units and a layer.
    let masked = build(&s, r#"error={"mode":"masked"}"#);
    let sliced = build(&s, r#"error={"mode":"sliced"}"#);
    let some = s.space.decode(&s.space.smallest()).unwrap();
    for subnet in [&full, &some] {
        assert_eq!(
            masked.measure(&s.net, subnet).unwrap().value,
            sliced.measure(&s.net, subnet).unwrap().value
        );
    }
    assert!(
        ObjectiveSpec::parse(r#"error={"mode":"fast"}"#)
            .unwrap()
            .build(&s.ctx)
            .is_err()
    );
    let latency = build(
        &s,
        r#"latency={"batch_size":2,"seq_len":16,"repetitions":5,"threads":1}"#,
    );
    assert!(latency.exclusive() && !error.exclusive());
    let l = latency.measure(&s.net, &full).unwrap();
    let (p10, p90) = (
        l.info["latency_p10_ms"].as_f64().unwrap(),
        l.info["latency_p90_ms"].as_f64().unwrap(),
    );
    assert!(l.value > 0.0 && p10 <= l.value && l.value <= p90, "{l:?}");
    assert_eq!(l.info["repetitions"], 5);
    assert_eq!(l.info["threads"], 1);
    assert!(
        ObjectiveSpec::parse(r#"latency={"threads":0}"#)
            .unwrap()
            .build(&s.ctx)
            .is_err()
    );
}

#[test]
fn the_evaluator_caches_by_sub_network_and_runs_inside_a_search() {
    let s = setup();
    let objectives = vec![
        build(&s, "error"),
        build(&s, "params"),
        build(&s, "latency={\"repetitions\":2,\"seq_len\":16}"),
    ];
    let ev = SubnetEvaluator::new(s.space.as_ref(), &s.net, objectives);
    let names: Vec<String> = ev.objectives().into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["error", "params", "latency"]);
    // Zero layers kept: whatever the heads and units, the same (empty) sub-network.
    let obj = ev.objectives();
    let a = Trial {
        id: 0,
        point: Point(vec![0, 1, 5]),
    };
    let b = Trial {
        id: 1,
        point: Point(vec![0, 3, 9]),
    };
    let ma = ev
        .evaluate(&a, &mut EvalContext::standalone(0, &obj))
        .unwrap();
    let mb = ev
        .evaluate(&b, &mut EvalContext::standalone(1, &obj))
        .unwrap();
    assert_eq!(ma.values, mb.values);
    assert_eq!(ev.cache_hits(), 1);
    assert_eq!(mb.info["cached"], true);
    assert_eq!(ma.info["subnet"], "0 layers [- -]");

    let ev = SubnetEvaluator::new(
        s.space.as_ref(),
        &s.net,
        vec![build(&s, "error"), build(&s, "params")],
    );
    let mut cfg = SearchConfig::new("random");
    cfg.max_evaluations = Some(12);
    cfg.reference_point = Some(vec![1.0, 1.0]);
    let result = Search::new(s.space.as_ref(), &ev, cfg).run().unwrap();
    assert_eq!(result.records.len(), 12);
    for r in &result.records {
        assert!(r.info["subnet"].is_string());
        assert!((0.0..=1.0).contains(&r.values[0]) && (0.0..=1.0).contains(&r.values[1]));
    }
    assert!(!result.front.is_empty());
}
