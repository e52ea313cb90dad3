//! A database per service: SQLite files by default, PostgreSQL databases in production.
//!
//! Queries are written once in SQL both engines accept; [`with_db!`] and
//! [`with_tx!`] expand one expression for each concrete pool, so every query
//! is type-checked against both drivers without `sqlx::Any`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

/// The platform's own tables (the pub/sub outbox and dedupe record), added to
/// every service database. Their versions start at 90000000, so a service's
/// migrations are numbered below that.
static PLATFORM_SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static PLATFORM_POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// Migrations handed to sqlx as one list: the platform's and the service's.
#[derive(Debug)]
struct Combined(Vec<Migration>);

impl<'s> MigrationSource<'s> for Combined {
    fn resolve(
        self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>>
    {
        Box::pin(async move { Ok(self.0) })
    }
}

async fn with_platform(platform: &Migrator, service: &Migrator) -> anyhow::Result<Migrator> {
    let mut all: Vec<Migration> = service.iter().cloned().collect();
    all.extend(platform.iter().cloned());
    Ok(Migrator::new(Combined(all)).await?)
}

/// A service's database as it declares it: a name and migrations per backend.
#[derive(Debug)]
pub struct DatabaseDecl {
    pub name: &'static str,
    pub sqlite: Migrator,
    pub postgres: Migrator,
}

/// Where the databases live, picked once from configuration.
#[derive(Clone)]
pub enum Backend {
    /// One SQLite file per service in this folder.
    Sqlite { dir: PathBuf },
    /// One logical database per service on this server, named `{prefix}_{service}`.
    Postgres {
        options: Box<PgConnectOptions>,
        prefix: String,
    },
}

/// Shows where the data is, never the password in the connect options.
impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Backend({}: {})", self.kind(), self.describe())
    }
}

impl Backend {
    /// Reads a `postgres://` URL. The URL's database name (default `kitemate`)
    /// becomes the prefix of each service's database.
    pub fn postgres(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).context("not a valid postgres:// URL")?;
        let prefix = options.get_database().unwrap_or("kitemate").to_string();
        if prefix.is_empty()
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            anyhow::bail!("database name {prefix:?} must be lowercase letters, digits and _");
        }
        Ok(Self::Postgres {
            options: Box::new(options),
            prefix,
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }

    /// Where the data lives, for humans: a folder or a server without credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite { dir } => std::path::absolute(dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
                .to_string(),
            Self::Postgres { options, prefix } => format!(
                "postgres://{}:{}/{prefix}_*",
                options.get_host(),
                options.get_port()
            ),
        }
    }

    /// Opens (creating when missing) and migrates one service's database.
    pub async fn open(&self, decl: &'static DatabaseDecl) -> anyhow::Result<Db> {
        let db = self.lazy(decl)?;
        db.prepare(self, Check::Full).await?;
        Ok(db)
    }

    /// A handle whose connections are made on first use; no I/O happens here,
    /// so that services can be built while [`Db::prepare`] runs.
    pub fn lazy(&self, decl: &'static DatabaseDecl) -> anyhow::Result<Db> {
        let (pool, write) = match self {
            Self::Sqlite { dir } => {
                let (readers, writer) = sqlite_pools(dir, decl.name)?;
                (Pool::Sqlite(readers), Pool::Sqlite(writer))
            }
            Self::Postgres { options, prefix } => {
                let pool = postgres_pool(options, &format!("{prefix}_{}", decl.name));
                (Pool::Postgres(pool.clone()), Pool::Postgres(pool))
            }
        };
        Ok(Db { decl, pool, write })
    }

    /// Drops every PostgreSQL database of this backend (SQLite files go with
    /// their folder). Only for test prefixes (`kmt_...`): never production data.
    #[doc(hidden)]
    pub async fn drop_all(&self) -> anyhow::Result<()> {
        let Self::Postgres { options, prefix } = self else {
            return Ok(());
        };
        anyhow::ensure!(
            prefix.starts_with("kmt_"),
            "refusing to drop databases of {prefix}: not a test prefix"
        );
        let mut conn = options.clone().database("postgres").connect().await?;
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
                .bind(format!("{}\\_%", prefix.replace('_', "\\_")))
                .fetch_all(&mut conn)
                .await?;
        for name in names {
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }
}

/// SQLite allows one writer at a time, and a writer that finds the lock
/// taken sleeps in SQLite's busy handler (milliseconds at a time). So writes
/// go through a pool of one connection, where they queue in order without
/// sleeping, and reads through a pool of several.
fn sqlite_pools(dir: &Path, name: &str) -> anyhow::Result<(SqlitePool, SqlitePool)> {
    create_private_dir(dir)
        .with_context(|| format!("cannot create data folder {}", dir.display()))?;
    let file = dir.join(format!("{name}.db"));
    make_private(&file).with_context(|| format!("cannot make {} private", file.display()))?;
    let options = SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let readers = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_lazy_with(options.clone());
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_lazy_with(options);
    Ok((readers, writer))
}

/// A folder only its owner can enter (0700), when it is made here; a folder
/// that exists keeps the permissions its owner gave it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// The database file and its WAL and shared-memory files readable by their
/// owner only (0600): they hold sessions, sealed tokens and portfolios.
/// Made empty with that mode when missing (SQLite takes an empty file as a
/// new database, and gives its WAL files the database file's mode).
fn make_private(file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
        {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
        let mut companions = vec![file.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = file.as_os_str().to_owned();
            name.push(suffix);
            companions.push(name.into());
        }
        for path in companions.iter().filter(|p| p.exists()) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

fn postgres_pool(options: &PgConnectOptions, database: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options.clone().database(database))
}

/// Creates the service's database on the server unless it exists.
async fn create_postgres_database(
    options: &PgConnectOptions,
    database: &str,
) -> anyhow::Result<()> {
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .with_context(|| {
            format!(
                "cannot connect to PostgreSQL at {}:{}",
                options.get_host(),
                options.get_port()
            )
        })?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        // Another replica may win the race; "already exists" (42P04) is success.
        if let Err(err) = sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut admin)
            .await
        {
            let duplicate = err
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42P04" || code == "23505");
            if !duplicate {
                return Err(err).with_context(|| format!("cannot create database {database}"));
            }
        }
    }
    admin.close().await?;
    Ok(())
}

/// How [`Db::prepare`] checks migrations that are already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Versions only: enough at every start.
    Quick,
    /// Versions and checksums, as `kitemate migrate` does.
    Full,
}

/// The concrete pool behind a service's database.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One service's database handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    decl: &'static DatabaseDecl,
    /// For reads (and anything on PostgreSQL).
    pool: Pool,
    /// For writes: SQLite's single writer connection; the same pool on PostgreSQL.
    write: Pool,
}

/// An open transaction on a service's database.
pub struct Tx {
    conn: TxConn,
    db: &'static str,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

/// The driver's transaction behind a [`Tx`]; reached through [`with_tx!`].
#[derive(Debug)]
pub enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("db", &self.db)
            .field("after_commit", &self.after_commit.len())
            .finish_non_exhaustive()
    }
}

impl Db {
    pub fn name(&self) -> &'static str {
        self.decl.name
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where writes outside a transaction go; see [`with_write!`].
    pub fn write_pool(&self) -> &Pool {
        &self.write
    }

    /// Makes the database ready: creates it on PostgreSQL when missing, then
    /// applies the service's migrations for this backend. A quick check only
    /// compares the applied versions with the embedded ones (one query, for a
    /// fast start); a full one also verifies each applied migration's checksum.
    pub async fn prepare(&self, backend: &Backend, check: Check) -> anyhow::Result<()> {
        let (platform, service) = match &self.pool {
            Pool::Sqlite(_) => (&PLATFORM_SQLITE, &self.decl.sqlite),
            Pool::Postgres(_) => (&PLATFORM_POSTGRES, &self.decl.postgres),
        };
        if check == Check::Quick {
            let mut expected: Vec<i64> = service
                .iter()
                .chain(platform.iter())
                .map(|m| m.version)
                .collect();
            expected.sort_unstable();
            if self
                .applied_versions()
                .await
                .is_ok_and(|applied| applied == expected)
            {
                return Ok(());
            }
        }
        if let (Backend::Postgres { options, prefix }, Pool::Postgres(_)) = (backend, &self.pool) {
            create_postgres_database(options, &format!("{prefix}_{}", self.name())).await?;
        }
        let migrator = with_platform(platform, service).await?;
        match &self.write {
            Pool::Sqlite(pool) => migrator.run(pool).await,
            Pool::Postgres(pool) => migrator.run(pool).await,
        }
        .with_context(|| format!("migrating the {} database", self.name()))
    }

    /// Versions of the migrations applied so far; an error when there is no
    /// database or no migrations table yet.
    async fn applied_versions(&self) -> Result<Vec<i64>, sqlx::Error> {
        crate::with_write!(self, |pool| {
            sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(pool)
            .await
        })
    }

    /// Does the database answer?
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        crate::with_db!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
        })
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so that two writers wait for each other instead
    /// of failing with SQLITE_BUSY when a read turns into a write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let conn = match &self.write {
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            conn,
            db: self.name(),
            after_commit: Vec::new(),
        })
    }

    /// Tables and their columns (name and nullability) and the indexes
    /// migrations create (name and uniqueness), sorted: the schema both
    /// backends must agree on. Column types differ by engine and are left out.
    pub async fn schema(&self) -> Result<Vec<(String, String, bool)>, sqlx::Error> {
        let mut rows: Vec<(String, String, bool)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT m.name, p.name, p.\"notnull\" = 0 AND p.pk = 0 \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                     AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' \
                     AND NOT EXISTS (SELECT 1 FROM sqlite_master v \
                         WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' \
                         AND m.name LIKE v.name || '\\_%' ESCAPE '\\')",
                )
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT table_name::text, column_name::text, is_nullable = 'YES' \
                     FROM information_schema.columns WHERE table_schema = 'public'",
                )
                .fetch_all(pool)
                .await?
            }
        };
        // Indexes created by migrations (not those backing a primary key or
        // UNIQUE column, which the engines name differently), as ("index",
        // name, unique). A full-text table of SQLite's (FTS5, with its shadow
        // tables) stands for the full-text index PostgreSQL has in its place.
        let indexes: Vec<(String, String, bool)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT 'index', m.name, l.\"unique\" = 1 FROM sqlite_master m \
                     JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name \
                     WHERE m.type = 'index' AND m.sql IS NOT NULL \
                     UNION ALL SELECT 'index', name, FALSE FROM sqlite_master \
                     WHERE sql LIKE 'CREATE VIRTUAL TABLE%'",
                )
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT 'index', i.relname::text, x.indisunique FROM pg_index x \
                     JOIN pg_class i ON i.oid = x.indexrelid \
                     JOIN pg_class t ON t.oid = x.indrelid \
                     JOIN pg_namespace n ON n.oid = t.relnamespace \
                     WHERE n.nspname = 'public' \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                )
                .fetch_all(pool)
                .await?
            }
        };
        rows.extend(indexes);
        rows.sort();
        Ok(rows)
    }

    pub async fn close(&self) {
        for pool in [&self.pool, &self.write] {
            match pool {
                Pool::Sqlite(pool) => pool.close().await,
                Pool::Postgres(pool) => pool.close().await,
            }
        }
    }
}

impl Tx {
    /// Commits, then runs what was registered with [`Tx::after_commit`].
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(tx) => tx.commit().await?,
        }
        for hook in self.after_commit {
            hook();
        }
        Ok(())
    }

    /// Which database this transaction writes to.
    pub fn db_name(&self) -> &'static str {
        self.db
    }

    pub fn conn(&mut self) -> &mut TxConn {
        &mut self.conn
    }

    /// Runs `hook` once the transaction has committed (never if it rolls back).
    pub fn after_commit(&mut self, hook: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(hook));
    }
}

/// A page read with one row past its `limit` (to learn whether another
/// follows): at most `limit` rows, and whether more follow.
pub fn page_of<R>(mut rows: Vec<R>, limit: i64) -> (Vec<R>, bool) {
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > wanted;
    rows.truncate(wanted);
    (rows, more)
}

/// Runs one expression against whichever pool `db` holds:
/// `with_db!(db, |pool| sqlx::query("...").execute(pool).await)`.
#[macro_export]
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Like [`with_db!`], for a write outside a transaction: on SQLite it goes
/// through the single writer connection, so it queues instead of colliding.
#[macro_export]
macro_rules! with_write {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.write_pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}

/// Runs one expression against the connection of an open transaction
/// (`tx: &mut Tx`): `with_tx!(tx, |conn| sqlx::query("...").execute(conn).await)`.
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx.conn() {
            $crate::db::TxConn::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::TxConn::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// The `VALUES` rows of a multi-row INSERT of `rows` rows of `columns`
/// values each, bound in order: anonymous `?` on SQLite (it finds a
/// numbered parameter's name by walking them all, quadratic in a large
/// statement), `$1, $2, …` on PostgreSQL.
pub fn values_rows(sqlite: bool, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            if sqlite {
                out.push('?');
            } else {
                use std::fmt::Write as _;
                let _ = write!(out, "${}", row * columns + column + 1);
            }
        }
        out.push(')');
    }
    out
}

/// `n` placeholders for an `IN (...)` list, bound in order: anonymous `?`
/// on SQLite (as [`values_rows`]), `$first, $first+1, …` on PostgreSQL.
pub fn in_list(sqlite: bool, n: usize, first: usize) -> String {
    if sqlite {
        vec!["?"; n].join(", ")
    } else {
        (first..first + n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Tx {
    /// Whether this transaction is on SQLite (for SQL that differs).
    pub fn is_sqlite(&mut self) -> bool {
        matches!(self.conn(), TxConn::Sqlite(_))
    }

    /// Deletes, table by table, the rows whose `column` holds `value` (a
    /// deleted account's rows, say); answers how many went. The tables and
    /// the column are the caller's own constant names, never input.
    pub async fn delete_where(
        &mut self,
        tables: &[&str],
        column: &str,
        value: &str,
    ) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        for table in tables {
            let sql = format!("DELETE FROM {table} WHERE {column} = $1");
            deleted += crate::with_tx!(self, |conn| {
                sqlx::query(&sql)
                    .bind(value)
                    .execute(conn)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        Ok(deleted)
    }
}

/// True when `err` is a unique-constraint violation on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_rows_number_postgres_parameters_in_bind_order() {
        assert_eq!(super::values_rows(true, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(super::values_rows(false, 2, 2), "($1, $2), ($3, $4)");
    }
}
