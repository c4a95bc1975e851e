//! kakunin's storage: one set of migrations and one set of queries for embedded SQLite and for
//! PostgreSQL, through sqlx's `Any` driver.
//!
//! Portability rules (see `migrations/0001_init.sql`): integers are BIGINT, flags 0/1, times TEXT
//! in UTC RFC 3339 (microseconds, `Z`), placeholders `$n`. Audit records go through one
//! [`audit::AuditWriter`] per process, which chains and commits them in batches.

#![deny(missing_docs)]

pub mod assistance;
pub mod audit;
pub mod cards;
pub mod declarations;
pub mod directory;
pub mod persons;
pub mod references;
pub mod seed;
pub mod testing;
pub mod tx;
pub mod visits;

pub use tx::Tx;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

pub use sqlx::Row;

/// Storage errors. Each says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}; check that the database is reachable and migrated (`kakunin migrate`)")]
    /// The database failed (the detail is for the log, never for clients).
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    /// A migration failed.
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} not found; check the identifier")]
    /// What was looked for is not there.
    NotFound(Entity),
    #[error("stored data is corrupt: {0}")]
    /// A stored value cannot be read back.
    Corrupt(String),
    #[error(transparent)]
    /// The domain refused (a rule, not storage).
    Domain(#[from] kakunin_core::DomainError),
    #[error("card {0} was changed by another request at the same time; retry")]
    /// The card changed since it was loaded (optimistic update); reload and retry.
    CardChanged(String),
    #[error("visit {0} was changed by another request at the same time; reload it and retry")]
    /// The visit changed since it was loaded; reload and retry.
    VisitChanged(String),
    #[error("the audit writer has stopped; restart the server")]
    /// The audit writer task is gone.
    AuditWriterStopped,
    #[error("a transaction that writes must carry its audit record; nothing was committed")]
    /// A transaction that writes carried no audit record.
    Unaudited,
}

/// What was looked for and not found, with its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// An insured person (their latest qualification) by id.
    Person(i64),
    /// A card by id.
    Card(String),
    /// A visit by id.
    Visit(String),
    /// An institution by code.
    Institution(String),
    /// A self-declaration by id.
    Declaration(String),
    /// A staff member by id.
    StaffMember(String),
    /// A reader by id.
    Reader(String),
    /// A batch by reception number.
    Batch(String),
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entity::Person(id) => write!(f, "insured person {id}"),
            Entity::Card(id) => write!(f, "card {id}"),
            Entity::Visit(id) => write!(f, "visit {id}"),
            Entity::Institution(code) => write!(f, "institution {code}"),
            Entity::Declaration(id) => write!(f, "self-declaration {id}"),
            Entity::StaffMember(id) => write!(f, "staff member {id}"),
            Entity::Reader(id) => write!(f, "reader {id}"),
            Entity::Batch(n) => write!(f, "batch {n}"),
        }
    }
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite (one file, WAL).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool plus what the queries need to know about the engine.
#[derive(Clone)]
pub struct Store {
    /// The connections.
    pub pool: AnyPool,
    /// Which engine they reach.
    pub engine: Engine,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite runs in WAL mode
    /// with `synchronous=NORMAL`: a committed transaction survives a killed process.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            Engine::Postgres
        };
        let max = if engine == Engine::Sqlite { 8 } else { 16 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // A database outage answers 503 within about 2 s instead of holding every request
            // (and the staff screen) for 10.
            .acquire_timeout(Duration::from_secs(2))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Store { pool, engine })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        // A bulk seed drops the randomly-ordered indexes and builds them at its end; if it was
        // interrupted, build them now.
        seed::create_bulk_indexes(self).await
    }

    /// Readiness: one round trip.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the database holds no persons yet (first start).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM institutions")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(n == 0)
    }
}

impl Store {
    /// `(…),(…)` placeholders for a multi-row INSERT of `rows` × `cols` values (see
    /// [`values_clause`]).
    pub fn values_clause(&self, rows: usize, cols: usize) -> String {
        values_clause(self.engine, rows, cols)
    }
}

/// `(…),(…)` placeholders for a multi-row INSERT of `rows` × `cols` values: `?` on SQLite
/// (whose lookup of numbered parameters is linear per parameter, so `$n` makes large
/// statements quadratic), `$n` on PostgreSQL.
pub fn values_clause(engine: Engine, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            match engine {
                Engine::Sqlite => sql.push('?'),
                Engine::Postgres => {
                    n += 1;
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// The SQLite URL for a file path, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The current time at the precision stored (microseconds), so that what is written reads back
/// equal.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Formats a time the way it is stored.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses a stored time.
pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

/// Parses a stored date.
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>>(
    row: &'r AnyRow,
    col: &str,
) -> Result<T> {
    Ok(row.try_get(col)?)
}

/// A random id with a readable prefix, e.g. `v-3f9a…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", hex::encode(rand::random::<[u8; 12]>()))
}
