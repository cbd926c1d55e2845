//! Name lookup shared by the plugin registries.

use crate::CoreError;

/// A failed lookup, before it is told which kind of plugin was looked for.
#[derive(Debug)]
pub(crate) enum Lookup {
    Unknown { name: String, known: Vec<String> },
    Duplicate { name: String, count: usize },
}

impl Lookup {
    /// The error for a registry of `kind` (`optimizer`, `scheduler`).
    pub(crate) fn for_kind(self, kind: &str) -> CoreError {
        match self {
            Lookup::Unknown { name, known } => CoreError::UnknownPlugin {
                kind: kind.to_string(),
                name,
                known,
            },
            Lookup::Duplicate { name, count } => CoreError::DuplicatePlugin {
                kind: kind.to_string(),
                name,
                count,
            },
        }
    }
}

/// The one item of `items` named `name`: an error listing the known names when there is
/// none, an error when there are several.
pub(crate) fn resolve_unique<'a, T>(
    items: &[&'a T],
    name: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a T, Lookup> {
    let matches: Vec<&'a T> = items
        .iter()
        .copied()
        .filter(|p| name_of(p) == name)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let mut known: Vec<String> = items.iter().map(|p| name_of(p).to_string()).collect();
            known.sort();
            known.dedup();
            Err(Lookup::Unknown {
                name: name.to_string(),
                known,
            })
        }
        many => Err(Lookup::Duplicate {
            name: name.to_string(),
            count: many.len(),
        }),
    }
}

/// The one item of `items` named `name`, for a registry of `kind` (`optimizer`, `scheduler`,
/// `objective`, …): [`CoreError::UnknownPlugin`] listing the known names when there is none,
/// [`CoreError::DuplicatePlugin`] when several share it. Crates that keep a plugin registry
/// of their own look names up with it, so every registry answers alike.
pub fn find_plugin<'a, T>(
    kind: &str,
    items: &[&'a T],
    name: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a T, CoreError> {
    resolve_unique(items, name, name_of).map_err(|l| l.for_kind(kind))
}
