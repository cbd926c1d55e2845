//! Property tests shared by every space: the invariants a search relies on.

use lopper_core::{Arch, Point, Subnet, seeded_rng};
use proptest::prelude::*;

use crate::{Sampler, SpaceConfig, SpaceKind};

fn arch() -> impl Strategy<Value = Arch> {
    (1usize..5, 1usize..6, 1usize..4, 1usize..10).prop_map(|(layers, heads, head_dim, units)| {
        Arch {
            num_layers: layers,
            num_heads: heads,
            head_dim,
            hidden_size: heads * head_dim,
            intermediate_size: units,
            vocab_size: 11,
            max_positions: 8,
            type_vocab_size: 2,
        }
    })
}

fn space() -> impl Strategy<Value = (Arch, SpaceConfig)> {
    let kind = prop::sample::select(SpaceKind::ALL.to_vec());
    let sampler = prop::sample::select(vec![Sampler::Uniform, Sampler::Sparsity]);
    (arch(), kind, sampler).prop_map(|(a, kind, sampler)| (a, SpaceConfig { kind, sampler }))
}

fn within_arch(s: &Subnet, arch: &Arch) {
    s.validate(arch).unwrap();
    assert!(s.heads_per_layer().iter().all(|&h| h <= arch.num_heads));
    assert!(
        s.units_per_layer()
            .iter()
            .all(|&u| u <= arch.intermediate_size)
    );
}

proptest! {
    #[test]
    fn largest_is_the_full_network((arch, cfg) in space()) {
        let space = cfg.build(arch).unwrap();
        prop_assert!(space.decode(&space.largest()).unwrap().is_full(&arch));
    }

    #[test]
    fn smallest_is_the_papers((arch, cfg) in space()) {
        let space = cfg.build(arch).unwrap();
        let s = space.decode(&space.smallest()).unwrap();
        match cfg.kind {
            SpaceKind::Small | SpaceKind::SmallHalvings => {
                prop_assert_eq!(s.num_kept_layers(), 1);
                prop_assert_eq!(s.total_heads(), 1);
                prop_assert_eq!(s.total_units(), 1);
            }
            SpaceKind::Medium => {
                prop_assert!(s.heads_per_layer().iter().all(|&h| h == 1));
                prop_assert!(s.units_per_layer().iter().all(|&u| u == 1));
            }
            SpaceKind::Layer => prop_assert_eq!(s.num_kept_layers(), 0),
            SpaceKind::Large => {
                prop_assert_eq!(s.total_heads(), 1);
                prop_assert_eq!(s.total_units(), 1);
            }
        }
    }

    #[test]
    fn samples_and_mutations_are_valid((arch, cfg) in space(), seed in any::<u64>()) {
        let space = cfg.build(arch).unwrap();
        let mut rng = seeded_rng(seed);
        for _ in 0..10 {
            let p = space.sample(&mut rng);
            space.validate(&p).unwrap();
            within_arch(&space.decode(&p).unwrap(), &arch);
            let q = space.mutate(&p, &mut rng);
            space.validate(&q).unwrap();
            within_arch(&space.decode(&q).unwrap(), &arch);
            let changed = p.coords().iter().zip(q.coords()).filter(|(a, b)| a != b).count();
            let movable = space.dims().iter().any(|d| d.domain.cardinality() > 1);
            prop_assert_eq!(changed, usize::from(movable));
        }
        for p in [space.lower_bound(), space.upper_bound(), space.mid_point()] {
            within_arch(&space.decode(&p).unwrap(), &arch);
        }
    }

    #[test]
    fn same_seed_same_samples((arch, cfg) in space(), seed in any::<u64>()) {
        let space = cfg.build(arch).unwrap();
        let (mut a, mut b) = (seeded_rng(seed), seeded_rng(seed));
        prop_assert_eq!(space.sample(&mut a), space.sample(&mut b));
    }

    #[test]
    fn serde_round_trips((arch, cfg) in space(), seed in any::<u64>()) {
        let space = cfg.build(arch).unwrap();
        let p = space.sample(&mut seeded_rng(seed));
        let back: Point = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        prop_assert_eq!(&back, &p);
        let s = space.decode(&p).unwrap();
        let back: Subnet = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        prop_assert_eq!(back, s);
        let c: SpaceConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        prop_assert_eq!(c, cfg);
        let arch_back: Arch = serde_json::from_str(&serde_json::to_string(&arch).unwrap()).unwrap();
        prop_assert_eq!(arch_back, arch);
    }

    #[test]
    fn points_outside_are_refused((arch, cfg) in space(), seed in any::<u64>(), extra in 1i64..5) {
        let space = cfg.build(arch).unwrap();
        let mut p = space.sample(&mut seeded_rng(seed));
        let (_, hi) = space.dims()[0].domain.bounds();
        p.0[0] = hi + extra;
        prop_assert!(space.decode(&p).is_err());
        let mut short = space.sample(&mut seeded_rng(seed));
        short.0.pop();
        prop_assert!(space.decode(&short).is_err());
    }
}
