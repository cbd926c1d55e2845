//! Finding and registering the font plotters draws text with.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use plotters::style::FontStyle;

use crate::ReportError;

/// Common places of a sans-serif TrueType font, tried in order.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    r"C:\Windows\Fonts\arial.ttf",
];

/// The font registered in this process, once one has been.
static REGISTERED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Finds a TrueType/OpenType font and registers it with plotters as `sans-serif` (once per
/// process; later calls return the same path).
///
/// The font is the file named by the environment variable `LOPPER_FONT` when it is set, else
/// the first existing of a list of common system fonts (DejaVu Sans, Liberation Sans, FreeSans,
/// Arial). Fails with [`ReportError::NoFont`] when there is none, and with
/// [`ReportError::Parse`] when the file is not a usable font.
pub fn load_font() -> Result<PathBuf, ReportError> {
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = registered.as_ref() {
        return Ok(path.clone());
    }
    let env = std::env::var_os("LOPPER_FONT").map(PathBuf::from);
    let candidates: Vec<PathBuf> = CANDIDATES.iter().map(PathBuf::from).collect();
    let path = find_font(env.as_deref(), &candidates)?;
    let bytes = std::fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
    // Plotters keeps fonts for the life of the process; this runs once, so the leak is bounded.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| ReportError::parse(&path, None, "not a TrueType/OpenType font"))?;
    *registered = Some(path.clone());
    Ok(path)
}

/// The font to use: `env` (the value of `LOPPER_FONT`) when given, which must then exist, else
/// the first existing candidate.
pub(crate) fn find_font(
    env: Option<&Path>,
    candidates: &[PathBuf],
) -> Result<PathBuf, ReportError> {
    if let Some(path) = env.filter(|p| !p.as_os_str().is_empty()) {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(ReportError::NoFont {
                tried: vec![path.to_path_buf()],
            })
        };
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| ReportError::NoFont {
            tried: candidates.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let font = dir.path().join("f.ttf");
        std::fs::write(&font, b"x").unwrap();
        let missing = dir.path().join("missing.ttf");
        let list = vec![missing.clone(), font.clone()];
        assert_eq!(find_font(None, &list).unwrap(), font);
        assert_eq!(find_font(Some(&font), &[]).unwrap(), font);
        match find_font(Some(&missing), &list) {
            Err(e @ ReportError::NoFont { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains("missing.ttf") && text.contains("LOPPER_FONT"),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
        match find_font(None, std::slice::from_ref(&missing)) {
            Err(ReportError::NoFont { tried }) => assert_eq!(tried, vec![missing]),
            other => panic!("{other:?}"),
        }
    }
}
