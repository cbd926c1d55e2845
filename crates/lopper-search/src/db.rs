//! The connection under a trial store: SQLite (rusqlite, bundled, WAL mode) or PostgreSQL
//! (the `postgres` crate, behind the `postgres` feature).
//!
//! Both back ends run the same SQL text. The few places where the two dialects differ are
//! tokens that [`Conn::sql`] rewrites: `@now` (the database's clock in seconds since the Unix
//! epoch) and `@skip_locked` (`FOR UPDATE SKIP LOCKED` on PostgreSQL; nothing on SQLite, which
//! serialises writers instead). Parameters are written `$1`, `$2`, …; on SQLite they become
//! `?1`, `?2`, …, which bind by number as PostgreSQL's do.
//!
//! Values cross this layer as a small [`Val`] enum rather than as each driver's own types, so
//! that the protocol above is written once. No crate offers that over these two synchronous
//! drivers (sqlx's `Any` driver is async and brings its own runtime), hence these few lines.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

use crate::{Result, SearchError};

/// Where a trial store lives: `sqlite:PATH` or `postgres://…` (`postgresql://…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string, as libpq takes it.
    Postgres(String),
}

impl FromStr for StoreUrl {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self> {
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(SearchError::Settings(
                    "`sqlite:` needs a path, e.g. sqlite:runs/study.db".into(),
                ));
            }
            return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(s.to_string()));
        }
        Err(SearchError::Settings(format!(
            "`{s}` is not a store: give sqlite:PATH or postgres://USER@HOST:PORT/DB"
        )))
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            // A password in the URL is not shown.
            StoreUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let userinfo = &url[scheme + 3..at];
                    match userinfo.split_once(':') {
                        Some((user, _)) => {
                            write!(f, "{}{user}:***{}", &url[..scheme + 3], &url[at..])
                        }
                        None => f.write_str(url),
                    }
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// What a database driver said.
#[derive(Debug, Error)]
pub enum DbError {
    /// From SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// From PostgreSQL.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// A value of a type the protocol does not use.
    #[error("column {column} has an unexpected type {found}")]
    Type {
        /// The column's index.
        column: usize,
        /// The type found.
        found: String,
    },
}

/// A value passed to or read from the database.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Val {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn real(&self) -> Option<f64> {
        match self {
            Val::Real(x) => Some(*x),
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<u64> for Val {
    fn from(v: u64) -> Self {
        Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Val::Real(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

/// One open connection.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Client>),
}

/// How long a writer waits for another process's transaction or lock before its statement
/// fails (SQLite's busy timeout, PostgreSQL's `lock_timeout`): transactions here last
/// milliseconds, so a longer wait means a peer is stuck, and an error says so where waiting
/// on would hang the study.
const LOCK_WAIT: Duration = Duration::from_secs(30);

impl Conn {
    pub(crate) fn open(url: &StoreUrl) -> Result<Self> {
        let fail = |e: DbError| SearchError::store(url, e);
        match url {
            StoreUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
                }
                let conn = rusqlite::Connection::open(path).map_err(|e| fail(e.into()))?;
                conn.busy_timeout(LOCK_WAIT).map_err(|e| fail(e.into()))?;
                // WAL: readers never block the writer; `synchronous = FULL` syncs every commit.
                let mode = wal_mode(&conn).map_err(|e| fail(e.into()))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(SearchError::Study(format!(
                        "{url}: SQLite refused WAL mode (journal mode {mode})"
                    )));
                }
                conn.execute_batch("PRAGMA synchronous = FULL")
                    .map_err(|e| fail(e.into()))?;
                Ok(Conn::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => {
                let mut config: postgres::Config =
                    u.parse().map_err(|e: postgres::Error| fail(e.into()))?;
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(LOCK_WAIT);
                }
                let mut client = config
                    .connect(postgres::NoTls)
                    .map_err(|e| fail(e.into()))?;
                client
                    .batch_execute(&format!("SET lock_timeout = '{}s'", LOCK_WAIT.as_secs()))
                    .map_err(|e| fail(e.into()))?;
                Ok(Conn::Postgres(Box::new(client)))
            }
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => Err(SearchError::Settings(format!(
                "{url}: this build of lopper has no PostgreSQL support (cargo feature `postgres`)"
            ))),
        }
    }

    /// The statement in this connection's dialect.
    pub(crate) fn sql(&self, text: &str) -> String {
        match self {
            Conn::Sqlite(_) => {
                let text = text
                    .replace("@now", "((julianday('now') - 2440587.5) * 86400.0)")
                    .replace("@skip_locked", "");
                // `$N` would be a *named* parameter in SQLite, numbered by first appearance;
                // `?N` binds by number, as PostgreSQL's `$N` does.
                let mut out = String::with_capacity(text.len());
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => text
                .replace(
                    "@now",
                    "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
                )
                .replace("@skip_locked", "FOR UPDATE SKIP LOCKED"),
        }
    }

    /// Runs statements without parameters (schema, transaction control).
    pub(crate) fn batch(&mut self, text: &str) -> Result<(), DbError> {
        let text = self.sql(text);
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(&text)?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => Ok(c.batch_execute(&text)?),
        }
    }

    /// Starts a write transaction (SQLite takes the write lock at once).
    pub(crate) fn begin(&mut self) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch("BEGIN IMMEDIATE")?),
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => Ok(c.batch_execute("BEGIN")?),
        }
    }

    pub(crate) fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    /// Rolls back, ignoring a failure (the transaction is gone either way).
    pub(crate) fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK");
    }

    /// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back otherwise.
    pub(crate) fn transaction<T>(
        &mut self,
        url: &StoreUrl,
        f: impl FnOnce(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        self.begin().map_err(|e| SearchError::store(url, e))?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.commit() {
                    self.rollback();
                    return Err(SearchError::store(url, e));
                }
                Ok(v)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn exec(&mut self, text: &str, params: &[Val]) -> Result<u64, DbError> {
        let text = self.sql(text);
        match self {
            Conn::Sqlite(c) => {
                let n = c.execute(&text, rusqlite::params_from_iter(params.iter().map(lite)))?;
                Ok(n as u64)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                let owned = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    owned.iter().map(|b| b.as_ref()).collect();
                Ok(c.execute(text.as_str(), &refs)?)
            }
        }
    }

    /// Runs one query; its rows.
    pub(crate) fn rows(&mut self, text: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let text = self.sql(text);
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(&text)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter().map(lite)))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        vals.push(match row.get_ref(i)? {
                            ValueRef::Null => Val::Null,
                            ValueRef::Integer(v) => Val::Int(v),
                            ValueRef::Real(v) => Val::Real(v),
                            ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                            ValueRef::Blob(_) => {
                                return Err(DbError::Type {
                                    column: i,
                                    found: "blob".into(),
                                });
                            }
                        });
                    }
                    out.push(vals);
                }
                Ok(out)
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                use postgres::types::Type;
                let owned = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    owned.iter().map(|b| b.as_ref()).collect();
                let mut out = Vec::new();
                for row in c.query(text.as_str(), &refs)? {
                    let mut vals = Vec::with_capacity(row.len());
                    for (i, col) in row.columns().iter().enumerate() {
                        let t = col.type_();
                        let v = if *t == Type::INT8 {
                            row.try_get::<_, Option<i64>>(i)?.map(Val::Int)
                        } else if *t == Type::INT4 {
                            row.try_get::<_, Option<i32>>(i)?
                                .map(|v| Val::Int(i64::from(v)))
                        } else if *t == Type::FLOAT8 {
                            row.try_get::<_, Option<f64>>(i)?.map(Val::Real)
                        } else if *t == Type::TEXT || *t == Type::VARCHAR {
                            row.try_get::<_, Option<String>>(i)?.map(Val::Text)
                        } else {
                            return Err(DbError::Type {
                                column: i,
                                found: t.name().to_string(),
                            });
                        };
                        vals.push(v.unwrap_or(Val::Null));
                    }
                    out.push(vals);
                }
                Ok(out)
            }
        }
    }

    /// Creates the tables (idempotent; safe when many processes start at once).
    pub(crate) fn create_schema(&mut self) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(_) => self.batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;")),
            #[cfg(feature = "postgres")]
            // `CREATE TABLE IF NOT EXISTS` is not safe against a concurrent one on
            // PostgreSQL: an advisory lock serialises the processes that create the schema.
            Conn::Postgres(_) => self.batch(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(7510407246); {SCHEMA} COMMIT;"
            )),
        }
    }
}

/// Switches a connection to WAL mode, the busy way: when several processes open a new
/// database at once, the switch can answer "database is locked" at once (SQLite does not call
/// the busy handler where waiting could deadlock), so it is retried until [`LOCK_WAIT`].
fn wal_mode(conn: &rusqlite::Connection) -> Result<String, rusqlite::Error> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn lite(v: &Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => Value::Integer(*i),
        Val::Real(x) => Value::Real(*x),
        Val::Text(s) => Value::Text(s.clone()),
    }
}

#[cfg(feature = "postgres")]
fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::Null => Box::new(Option::<String>::None),
                Val::Int(i) => Box::new(*i),
                Val::Real(x) => Box::new(*x),
                Val::Text(s) => Box::new(s.clone()),
            }
        })
        .collect()
}

/// The tables, in SQL both databases take. Times are the database's clock in seconds since
/// the Unix epoch; flags are 0/1 integers.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lopper_studies (
    name TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    checkpoint TEXT,
    finished BIGINT NOT NULL DEFAULT 0,
    coordinator TEXT,
    coordinator_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS lopper_trials (
    study TEXT NOT NULL,
    id BIGINT NOT NULL,
    point TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt BIGINT NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until DOUBLE PRECISION,
    record TEXT,
    error TEXT,
    told BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (study, id)
);
CREATE INDEX IF NOT EXISTS lopper_trials_by_state ON lopper_trials (study, state, id);
CREATE TABLE IF NOT EXISTS lopper_refusals (
    study TEXT NOT NULL,
    trial BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    reason TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS lopper_reports (
    study TEXT NOT NULL,
    trial BIGINT NOT NULL,
    fidelity BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    reported TEXT NOT NULL,
    decision TEXT,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (study, trial, fidelity)
);
CREATE TABLE IF NOT EXISTS lopper_workers (
    study TEXT NOT NULL,
    worker TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    seen_at DOUBLE PRECISION NOT NULL,
    evaluated BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    PRIMARY KEY (study, worker)
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_hide_passwords() {
        assert_eq!(
            "sqlite:runs/a.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("runs/a.db".into())
        );
        assert_eq!(
            "sqlite:///tmp/a.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("/tmp/a.db".into())
        );
        let pg: StoreUrl = "postgres://me:secret@db:5432/lopper".parse().unwrap();
        assert_eq!(pg.to_string(), "postgres://me:***@db:5432/lopper");
        assert!("mysql://x".parse::<StoreUrl>().is_err());
        assert!("sqlite:".parse::<StoreUrl>().is_err());
    }

    /// Many processes open a store that does not exist yet at the same moment (a study's
    /// coordinator and its workers): none may fail with "database is locked".
    #[test]
    fn sqlite_opens_concurrently_on_a_fresh_file() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let url = StoreUrl::Sqlite(dir.path().join("race.db"));
            let threads: Vec<_> = (0..8)
                .map(|i| {
                    let url = url.clone();
                    std::thread::spawn(move || -> Result<()> {
                        let mut c = Conn::open(&url)?;
                        c.create_schema().map_err(|e| SearchError::store(&url, e))?;
                        c.transaction(&url, |c| {
                            c.exec(
                                "INSERT INTO lopper_workers (study, worker, started_at, seen_at, state) \
                                 VALUES ('s', $1, @now, @now, 'running')",
                                &[Val::Text(format!("w{i}"))],
                            )
                            .map_err(|e| SearchError::store(&url, e))
                        })?;
                        Ok(())
                    })
                })
                .collect();
            for t in threads {
                t.join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
            let n = Conn::open(&url)
                .unwrap()
                .rows("SELECT COUNT(*) FROM lopper_workers", &[])
                .unwrap();
            assert_eq!(n[0][0], Val::Int(8));
        }
    }

    #[test]
    fn sqlite_parameters_bind_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Sqlite(dir.path().join("t.db"));
        let mut c = Conn::open(&url).unwrap();
        c.batch("CREATE TABLE t (a BIGINT, b TEXT)").unwrap();
        // $2 appears before $1: still bound by number.
        c.exec(
            "INSERT INTO t (b, a) VALUES ($2, $1)",
            &[Val::Int(7), "x".into()],
        )
        .unwrap();
        let rows = c
            .rows("SELECT a, b, @now FROM t WHERE a = $1", &[Val::Int(7)])
            .unwrap();
        assert_eq!(rows[0][0], Val::Int(7));
        assert_eq!(rows[0][1], Val::Text("x".into()));
        let now = rows[0][2].real().unwrap();
        let sys = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((now - sys).abs() < 5.0, "{now} vs {sys}");
    }
}
