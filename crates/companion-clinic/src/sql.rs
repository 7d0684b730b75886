//! The two database backends behind one small interface: embedded SQLite (one file in the data
//! directory) and PostgreSQL (`--database-url postgres://...`). Queries are written once, with
//! SQLite's `?N` placeholders, in SQL both understand; PostgreSQL gets them as `$N`.
//!
//! Writes are serialised: SQLite by `BEGIN IMMEDIATE`, PostgreSQL by a transaction-scoped
//! advisory lock. So change sequence numbers commit in the order they were handed out, and a
//! device reading the change feed after a cursor never skips a change that commits late, also
//! with several server processes sharing one PostgreSQL.

use crate::error::{StoreError, StoreResult};
use std::collections::HashMap;

/// A query parameter.
#[derive(Debug, Clone, Copy)]
pub enum P<'a> {
    T(&'a str),
    I(i64),
    /// A NULL text.
    Null,
}

impl<'a> From<&'a str> for P<'a> {
    fn from(s: &'a str) -> P<'a> {
        P::T(s)
    }
}
impl<'a> From<&'a String> for P<'a> {
    fn from(s: &'a String) -> P<'a> {
        P::T(s.as_str())
    }
}
impl<'a> From<i64> for P<'a> {
    fn from(i: i64) -> P<'a> {
        P::I(i)
    }
}
impl<'a> From<Option<&'a str>> for P<'a> {
    fn from(s: Option<&'a str>) -> P<'a> {
        s.map_or(P::Null, P::T)
    }
}

/// `[a, b, c]` as parameters.
#[macro_export]
macro_rules! params {
    ($($p:expr),* $(,)?) => { &[$($crate::sql::P::from($p)),*] as &[$crate::sql::P] };
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    T(String),
    I(i64),
    Null,
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(Vec<Val>);

impl Row {
    pub fn text(&self, i: usize) -> StoreResult<String> {
        match self.0.get(i) {
            Some(Val::T(s)) => Ok(s.clone()),
            _ => Err(StoreError::internal("column type")),
        }
    }
    pub fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match self.0.get(i) {
            Some(Val::T(s)) => Ok(Some(s.clone())),
            Some(Val::Null) => Ok(None),
            _ => Err(StoreError::internal("column type")),
        }
    }
    pub fn int(&self, i: usize) -> StoreResult<i64> {
        match self.0.get(i) {
            Some(Val::I(n)) => Ok(*n),
            _ => Err(StoreError::internal("column type")),
        }
    }
}

/// A connection (or a transaction on one): run a statement, or fetch rows.
pub trait Sql {
    fn exec(&mut self, sql: &str, params: &[P]) -> StoreResult<u64>;
    fn rows(&mut self, sql: &str, params: &[P]) -> StoreResult<Vec<Row>>;
    /// Statements without parameters, separated by `;`.
    fn batch(&mut self, sql: &str) -> StoreResult<()>;
    fn kind(&self) -> Kind;

    fn row(&mut self, sql: &str, params: &[P]) -> StoreResult<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }
    fn one(&mut self, sql: &str, params: &[P]) -> StoreResult<Row> {
        self.row(sql, params)?.ok_or_else(|| StoreError::internal("no row"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Sql for rusqlite::Connection {
    fn exec(&mut self, sql: &str, params: &[P]) -> StoreResult<u64> {
        let mut stmt = self.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter().map(lite)))? as u64)
    }
    fn rows(&mut self, sql: &str, params: &[P]) -> StoreResult<Vec<Row>> {
        let mut stmt = self.prepare_cached(sql)?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params.iter().map(lite)), |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                            rusqlite::types::Value::Integer(v) => Val::I(v),
                            rusqlite::types::Value::Text(s) => Val::T(s),
                            _ => Val::Null,
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(Row)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        Ok(self.execute_batch(sql)?)
    }
    fn kind(&self) -> Kind {
        Kind::Sqlite
    }
}

fn lite(p: &P) -> rusqlite::types::Value {
    match p {
        P::T(s) => rusqlite::types::Value::Text((*s).to_owned()),
        P::I(i) => rusqlite::types::Value::Integer(*i),
        P::Null => rusqlite::types::Value::Null,
    }
}

/// A PostgreSQL connection with its prepared statements (one round trip per statement after
/// the first use).
pub struct Pg {
    client: Option<postgres::Client>,
    prepared: HashMap<String, postgres::Statement>,
}

impl Pg {
    pub fn connect(url: &str) -> Result<Pg, postgres::Error> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(Pg { client: Some(client), prepared: HashMap::new() })
    }

    fn client(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("connected until dropped")
    }

    fn statement(&mut self, sql: &str) -> StoreResult<postgres::Statement> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client().prepare(&dollar_placeholders(sql))?;
        self.prepared.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

impl Drop for Pg {
    /// The blocking client runs its own small runtime and may not be closed on an async
    /// worker (where the server's state is dropped at shutdown): close it on a plain thread.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(client)).join();
            }
        }
    }
}

/// `?1` becomes `$1`, outside quoted strings and identifiers (`'?1'` and `"?1"` stay as they
/// are) and outside comments: queries are written once, in SQLite's numbered form.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    // The quote we are inside, if any (`'` string, `"` identifier), or the newline that ends
    // a `--` comment.
    let mut inside: Option<char> = None;
    while let Some(c) = chars.next() {
        match inside {
            Some('\n') if c == '\n' => inside = None,
            Some('\n') => {}
            // A doubled quote is the quote itself and stays inside.
            Some(q) if c == q && chars.peek() == Some(&q) => {
                out.push(c);
                out.push(chars.next().unwrap_or(q));
                continue;
            }
            Some(q) if c == q => inside = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => inside = Some(c),
            None if c == '-' && chars.peek() == Some(&'-') => inside = Some('\n'),
            None if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

fn pg_params<'a>(params: &'a [P<'a>]) -> Vec<Box<dyn postgres::types::ToSql + Sync + 'a>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                P::T(s) => Box::new(*s),
                P::I(i) => Box::new(*i),
                P::Null => Box::new(None::<&str>),
            }
        })
        .collect()
}

impl Sql for Pg {
    fn exec(&mut self, sql: &str, params: &[P]) -> StoreResult<u64> {
        let stmt = self.statement(sql)?;
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        Ok(self.client().execute(&stmt, &refs)?)
    }
    fn rows(&mut self, sql: &str, params: &[P]) -> StoreResult<Vec<Row>> {
        use postgres::types::Type;
        let stmt = self.statement(sql)?;
        let boxed = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self.client().query(&stmt, &refs)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let t = r.columns()[i].type_();
                        Ok(if *t == Type::INT8 {
                            r.try_get::<_, Option<i64>>(i)?.map_or(Val::Null, Val::I)
                        } else if *t == Type::INT4 {
                            r.try_get::<_, Option<i32>>(i)?.map_or(Val::Null, |v| Val::I(v.into()))
                        } else {
                            r.try_get::<_, Option<String>>(i)?.map_or(Val::Null, Val::T)
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()
                    .map(Row)
            })
            .collect()
    }
    fn batch(&mut self, sql: &str) -> StoreResult<()> {
        Ok(self.client().batch_execute(sql)?)
    }
    fn kind(&self) -> Kind {
        Kind::Postgres
    }
}

/// The connection pool (`r2d2`): a free connection is handed out, a caller waits at most
/// [`POOL_WAIT`] for one, and a connection found closed (PostgreSQL restarted, the network
/// dropped) is replaced rather than handed out again.
pub type Pool<M> = r2d2::Pool<M>;

/// How long a request waits for a free connection before it is refused: as long as a request
/// may last at all (a long backup can hold SQLite's one connection).
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Builds a pool of `size` connections, kept open for the server's life. One is opened first,
/// so a bad URL or folder fails at start-up at once, with its own error.
pub fn pool<M: r2d2::ManageConnection>(manager: M, size: u32) -> anyhow::Result<Pool<M>> {
    drop(manager.connect().map_err(|e| anyhow::anyhow!("{e}"))?);
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(size))
        .idle_timeout(None)
        .max_lifetime(None)
        .connection_timeout(POOL_WAIT)
        // Checking each connection on the way out would cost a round trip per request; a broken
        // one is noticed on its way back (`has_broken`) instead.
        .test_on_check_out(false)
        // Connection failures are logged by the managers, with codes and never a statement.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(manager)?)
}

/// A connection from the pool, or `Internal` if none came free in time.
pub fn lease<M: r2d2::ManageConnection>(pool: &Pool<M>) -> StoreResult<r2d2::PooledConnection<M>> {
    pool.get().map_err(|_| StoreError::internal("database pool"))
}

/// Opens the clinic's SQLite file with the settings every connection needs.
pub struct SqliteManager {
    pub path: std::path::PathBuf,
}

impl r2d2::ManageConnection for SqliteManager {
    type Connection = rusqlite::Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        let conn = rusqlite::Connection::open(&self.path).inspect_err(|e| tracing::error!(error = %e, "cannot open the database"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        Ok(conn)
    }
    fn is_valid(&self, conn: &mut rusqlite::Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch("")
    }
    fn has_broken(&self, _: &mut rusqlite::Connection) -> bool {
        false
    }
}

/// Opens PostgreSQL connections, each with its own prepared statements.
pub struct PgManager {
    pub url: String,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = Pg;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Pg, postgres::Error> {
        Pg::connect(&self.url).inspect_err(|e| {
            let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
            tracing::error!(code = %code, "cannot connect to PostgreSQL");
        })
    }
    fn is_valid(&self, conn: &mut Pg) -> Result<(), postgres::Error> {
        conn.client().simple_query("").map(|_| ())
    }
    fn has_broken(&self, conn: &mut Pg) -> bool {
        conn.client.as_ref().is_none_or(|c| c.is_closed())
    }
}

/// Runs `f` in one write transaction: committed if it returns Ok, rolled back otherwise.
pub fn write_tx<T>(conn: &mut dyn Sql, f: impl FnOnce(&mut dyn Sql) -> StoreResult<T>) -> StoreResult<T> {
    match conn.kind() {
        Kind::Sqlite => conn.batch("BEGIN IMMEDIATE")?,
        // One writer at a time across every server process on this database.
        Kind::Postgres => conn.batch("BEGIN; SELECT pg_advisory_xact_lock(7031977)")?,
    }
    match f(conn) {
        Ok(v) => match conn.batch("COMMIT") {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                Err(e)
            }
        },
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_nothing_quoted_is_touched() {
        assert_eq!(dollar_placeholders("SELECT ?1, ?12 WHERE a = '?' AND b = ?2"), "SELECT $1, $12 WHERE a = '?' AND b = $2");
        assert_eq!(dollar_placeholders("SELECT '?1', \"?2\", ?3"), "SELECT '?1', \"?2\", $3");
        assert_eq!(dollar_placeholders("SELECT 'it''s ?1' || ?2"), "SELECT 'it''s ?1' || $2");
        assert_eq!(dollar_placeholders("SELECT ?1 -- not ?2\n, ?3"), "SELECT $1 -- not ?2\n, $3");
        assert_eq!(dollar_placeholders("SELECT a - ?1"), "SELECT a - $1");
        assert_eq!(dollar_placeholders("SELECT '?1"), "SELECT '?1", "an unclosed quote stays a quote");
    }

    #[test]
    fn a_failed_write_transaction_leaves_nothing() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        write_tx(&mut conn, |c| c.exec("INSERT INTO t (v) VALUES (?1)", params![1i64])).unwrap();
        let failed: StoreResult<()> = write_tx(&mut conn, |c| {
            c.exec("INSERT INTO t (v) VALUES (?1)", params![2i64])?;
            Err(StoreError::invalid("no"))
        });
        assert!(failed.is_err());
        let rows = conn.rows("SELECT v FROM t", &[]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].int(0).unwrap(), 1);
    }
}
