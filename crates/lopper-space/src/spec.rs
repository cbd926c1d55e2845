//! Sub-networks written on a command line: `SPACE:c1,c2,…` (a point of a search space) or
//! `@FILE` (a serialised [`Subnet`]).

use lopper_core::{Arch, CoreError, Point, Result, Subnet};

use crate::{SpaceConfig, SpaceKind};

/// Parses a sub-network spec for `arch`:
///
/// - `small:L,H,U` — the first L layers, each with its first H heads and first U units (any
///   space works the same way: `medium:h0,u0,h1,u1,…`, `layer:1,0,1,…`; coordinates are the
///   space's own, see its documentation);
/// - `@subnet.json` — a [`Subnet`] as JSON, or a front member holding one under `subnet`
///   (what `lopper select` prints), checked against `arch`;
/// - `full` — the whole network.
pub fn subnet_from_spec(spec: &str, arch: Arch) -> Result<Subnet> {
    if spec == "full" {
        return Ok(Subnet::full(&arch));
    }
    if let Some(path) = spec.strip_prefix('@') {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CoreError::InvalidSubnet(format!("{path}: {e}")))?;
        let mut doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| CoreError::InvalidSubnet(format!("{path}: {e}")))?;
        // A member of a front (what `lopper select` prints) holds its sub-network under
        // `subnet`.
        if let Some(inner) = doc.get_mut("subnet").filter(|s| s.is_object()) {
            doc = inner.take();
        }
        let subnet: Subnet = serde_json::from_value(doc)
            .map_err(|e| CoreError::InvalidSubnet(format!("{path}: {e}")))?;
        subnet.validate(&arch)?;
        return Ok(subnet);
    }
    let Some((kind, coords)) = spec.split_once(':') else {
        return Err(CoreError::InvalidSubnet(format!(
            "`{spec}` is not a sub-network spec: use SPACE:c1,c2,… (e.g. small:6,12,1536), \
             @FILE.json or full"
        )));
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
        .collect::<Result<Vec<_>>>()?;
    space.decode(&Point(coords))
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
    }
}
