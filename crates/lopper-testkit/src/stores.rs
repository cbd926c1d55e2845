//! The trial stores the store tests run on, and names that do not collide between runs.

use std::path::Path;

/// A fresh SQLite file in `dir` (`sqlite:DIR/trials.db`), and the PostgreSQL server of
/// `LOPPER_TEST_POSTGRES` (which `.ci/run` starts). Under CI (`CI=true`) its absence fails
/// the calling test instead of skipping PostgreSQL.
///
/// # Panics
/// Under CI, when `LOPPER_TEST_POSTGRES` is not set.
pub fn store_urls(dir: &Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite:{}", dir.join("trials.db").display())];
    match std::env::var("LOPPER_TEST_POSTGRES") {
        Ok(url) => urls.push(url),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("LOPPER_TEST_POSTGRES is not set (.ci/run starts a PostgreSQL server)")
        }
        Err(_) => eprintln!("LOPPER_TEST_POSTGRES is not set: PostgreSQL is not tested"),
    }
    urls
}

/// `PREFIX-PID-NANOS`: a study name no other test run uses (a PostgreSQL server is shared).
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{nanos}", std::process::id())
}
