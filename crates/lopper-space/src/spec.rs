//! Sub-networks written on a command line: `SPACE:c1,c2,…` (a point of a search space) or
//! `@FILE` (a serialised [`Subnet`]).

use std::path::PathBuf;

use lopper_core::{Arch, CoreError, Point, Subnet};
use serde::Deserialize;

use crate::{SpaceConfig, SpaceKind};

/// Why a sub-network spec could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The `@FILE` could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The `@FILE` holds no sub-network.
    #[error("{path}: not a sub-network (nor a front member holding one): {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A spec that is not one, or a sub-network or point that does not fit the network.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// A member of a front (what `lopper select` prints): its sub-network under `subnet`.
#[derive(Deserialize)]
struct Member {
    subnet: Subnet,
}

/// Parses a sub-network spec for `arch`:
///
/// - `small:L,H,U` — the first L layers, each with its first H heads and first U units (any
///   space works the same way: `medium:h0,u0,h1,u1,…`, `layer:1,0,1,…`; coordinates are the
///   space's own, see its documentation);
/// - `@subnet.json` — a [`Subnet`] as JSON, or a front member holding one under `subnet`
///   (what `lopper select` prints), checked against `arch`;
/// - `full` — the whole network.
pub fn subnet_from_spec(spec: &str, arch: Arch) -> Result<Subnet, SpecError> {
    if spec == "full" {
        return Ok(Subnet::full(&arch));
    }
    if let Some(path) = spec.strip_prefix('@') {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.into(),
            source,
        })?;
        let subnet = match serde_json::from_str::<Member>(&text) {
            Ok(member) => member.subnet,
            Err(_) => serde_json::from_str::<Subnet>(&text).map_err(|source| SpecError::Json {
                path: path.into(),
                source,
            })?,
        };
        subnet.validate(&arch)?;
        return Ok(subnet);
    }
    let Some((kind, coords)) = spec.split_once(':') else {
        return Err(CoreError::InvalidSubnet(format!(
            "`{spec}` is not a sub-network spec: use SPACE:c1,c2,… (e.g. small:6,12,1536), \
             @FILE.json or full"
        ))
        .into());
    };
    let kind: SpaceKind = kind.parse()?;
    let space = SpaceConfig::new(kind).build(arch)?;
    let coords = coords
        .split(',')
        .map(|c| {
            c.trim().parse::<i64>().map_err(|_| {
                CoreError::InvalidPoint(format!("`{c}` in `{spec}` is not an integer"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(space.decode(&Point(coords))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let arch = Arch::minilm_l6();
        let s = subnet_from_spec("small:3,6,768", arch).unwrap();
        assert_eq!(s.heads_per_layer(), [6, 6, 6, 0, 0, 0]);
        assert!(subnet_from_spec("full", arch).unwrap().is_full(&arch));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(
            subnet_from_spec(&format!("@{}", path.display()), arch).unwrap(),
            s
        );
        for bad in [
            "small:3,6",
            "small:7,1,1",
            "tiny:1",
            "small:a,b,c",
            "3,6,768",
            "@/no/such.json",
        ] {
            assert!(subnet_from_spec(bad, arch).is_err(), "{bad}");
        }
        // A front member holds its sub-network under `subnet`.
        let member = dir.path().join("m.json");
        let text = format!(
            r#"{{"values":[0.1,0.5],"subnet":{}}}"#,
            serde_json::to_string(&s).unwrap()
        );
        std::fs::write(&member, text).unwrap();
        assert_eq!(
            subnet_from_spec(&format!("@{}", member.display()), arch).unwrap(),
            s
        );
        // The causes stay typed: the system's error for a missing file, the parser's for JSON
        // that holds no sub-network, each with the path.
        let missing = subnet_from_spec("@/no/such.json", arch).unwrap_err();
        assert!(
            matches!(&missing, SpecError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{missing}"
        );
        std::fs::write(&path, r#"{"layers": 3}"#).unwrap();
        let junk = subnet_from_spec(&format!("@{}", path.display()), arch).unwrap_err();
        assert!(matches!(junk, SpecError::Json { .. }), "{junk}");
        assert!(junk.to_string().contains("s.json"), "{junk}");
    }
}
