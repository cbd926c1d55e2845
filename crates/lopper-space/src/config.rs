//! Naming and building spaces from configuration.

use std::fmt;
use std::str::FromStr;

use lopper_core::{Arch, CoreError, Result, SearchSpace};
use serde::{Deserialize, Serialize};

use crate::{HeadChoice, LargeSpace, LayerSpace, MediumSpace, Sampler, SmallSpace};

/// The spaces by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpaceKind {
    /// [`SmallSpace`] with an integer head count.
    Small,
    /// [`SmallSpace`] with the head count an ordinal over halvings.
    SmallHalvings,
    /// [`MediumSpace`].
    Medium,
    /// [`LayerSpace`].
    Layer,
    /// [`LargeSpace`].
    Large,
}

impl SpaceKind {
    /// Every kind, in the order of the paper's table.
    pub const ALL: [SpaceKind; 5] = [
        SpaceKind::Small,
        SpaceKind::SmallHalvings,
        SpaceKind::Medium,
        SpaceKind::Layer,
        SpaceKind::Large,
    ];

    /// The name used in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceKind::Small => "small",
            SpaceKind::SmallHalvings => "small-halvings",
            SpaceKind::Medium => "medium",
            SpaceKind::Layer => "layer",
            SpaceKind::Large => "large",
        }
    }
}

impl fmt::Display for SpaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpaceKind {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
                CoreError::InvalidSpace(format!(
                    "unknown space `{s}`; known spaces: {}",
                    known.join(", ")
                ))
            })
    }
}

/// A space as written in a configuration: its kind and, for the binary spaces, its sampler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceConfig {
    /// Which space.
    pub kind: SpaceKind,
    /// How LAYER and LARGE draw random points (ignored by the integer spaces).
    #[serde(default)]
    pub sampler: Sampler,
}

impl SpaceConfig {
    /// A space of `kind` with the uniform sampler.
    pub fn new(kind: SpaceKind) -> Self {
        Self {
            kind,
            sampler: Sampler::Uniform,
        }
    }

    /// Builds the space over `arch`.
    pub fn build(&self, arch: Arch) -> Result<Box<dyn SearchSpace>> {
        Ok(match self.kind {
            SpaceKind::Small => Box::new(SmallSpace::new(arch, HeadChoice::Integer)?),
            SpaceKind::SmallHalvings => Box::new(SmallSpace::new(arch, HeadChoice::Halvings)?),
            SpaceKind::Medium => Box::new(MediumSpace::new(arch)?),
            SpaceKind::Layer => Box::new(LayerSpace::new(arch, self.sampler)?),
            SpaceKind::Large => Box::new(LargeSpace::new(arch, self.sampler)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in SpaceKind::ALL {
            assert_eq!(kind.as_str().parse::<SpaceKind>().unwrap(), kind);
            let space = SpaceConfig::new(kind).build(Arch::minilm_l6()).unwrap();
            assert_eq!(space.name(), kind.as_str());
        }
        let err = "huge".parse::<SpaceKind>().unwrap_err().to_string();
        assert!(
            err.contains("small, small-halvings, medium, layer, large"),
            "{err}"
        );
        let cfg: SpaceConfig =
            serde_json::from_str(r#"{"kind":"large","sampler":"sparsity"}"#).unwrap();
        assert_eq!(cfg.sampler, Sampler::Sparsity);
        assert!(serde_json::from_str::<SpaceConfig>(r#"{"kind":"large","samplr":"x"}"#).is_err());
    }
}
