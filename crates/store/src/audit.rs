//! The append-only, hash-chained audit log.
//!
//! Callers send events to an [`AuditWriter`] and wait for the commit. The writer takes whatever
//! has queued up since its last commit and appends it in one transaction (group commit): it locks
//! the chain head (table `audit_head`), chains the batch after it, inserts, and moves the head. An
//! event is acknowledged only after its commit, so an acknowledged check is on disk even if the
//! process is killed right after; and several processes can share one chain, taking turns.

use crate::{get, parse_ts, ts, Result, Store, StoreError};
use kakunin_core::audit::{chain, verify, AuditAction, AuditEvent, AuditRecord, GENESIS};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 2048;
const ROWS_PER_INSERT: usize = 400;

struct Job {
    event: AuditEvent,
    done: oneshot::Sender<Result<i64, String>>,
}

/// Handle to the audit writer task. Cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer task.
    pub async fn start(store: Store) -> Result<AuditWriter> {
        let (tx, rx) = mpsc::channel(16 * 1024);
        tokio::spawn(run(store, rx));
        Ok(AuditWriter { tx })
    }

    /// Appends `event`; returns its sequence number once committed.
    pub async fn append(&self, event: AuditEvent) -> Result<i64> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { event, done })
            .await
            .map_err(|_| StoreError::AuditWriterStopped)?;
        match wait.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(e)) => Err(StoreError::Corrupt(format!("audit write failed: {e}"))),
            Err(_) => Err(StoreError::AuditWriterStopped),
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let events: Vec<AuditEvent> = batch.iter().map(|j| j.event.clone()).collect();
        // A second try covers a busy database (SQLite's lock timeout) or a dropped connection.
        let mut outcome = store.append_audit_batch(&events).await;
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "audit batch failed; trying once more");
            outcome = store.append_audit_batch(&events).await;
        }
        match outcome {
            Ok(first_seq) => {
                for (i, job) in batch.drain(..).enumerate() {
                    let _ = job.done.send(Ok(first_seq + i as i64));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "audit batch failed twice; the requests are answered with an error");
                for job in batch.drain(..) {
                    let _ = job.done.send(Err(e.to_string()));
                }
            }
        }
    }
}

pub use kakunin_api::audit::ChainReport;

impl Store {
    /// Appends `events` after the chain head in one transaction; returns the first new seq.
    async fn append_audit_batch(&self, events: &[AuditEvent]) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        lock_head(&mut tx).await?;
        let first = append_events(&mut tx, self.engine, events).await?;
        tx.commit().await?;
        Ok(first)
    }

    /// Records with `seq > after`, oldest first, at most `limit`.
    pub async fn audit_records(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query("SELECT seq, at, actor, institution, action, subject, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let action: String = get(r, "action")?;
                Ok(AuditRecord {
                    seq: get(r, "seq")?,
                    event: AuditEvent {
                        at: parse_ts(&get::<String>(r, "at")?)?,
                        actor: get(r, "actor")?,
                        institution: get(r, "institution")?,
                        action: serde_json::from_value::<AuditAction>(serde_json::Value::String(
                            action.clone(),
                        ))
                        .map_err(|_| StoreError::Corrupt(format!("audit action {action:?}")))?,
                        subject: get(r, "subject")?,
                        detail: get(r, "detail")?,
                    },
                    prev_hash: get(r, "prev_hash")?,
                    hash: get(r, "hash")?,
                })
            })
            .collect()
    }

    /// Verifies the whole chain from the first record, page by page.
    pub async fn verify_audit_chain(&self) -> Result<ChainReport> {
        let (mut prev, mut next) = (GENESIS, 1i64);
        loop {
            let page = self.audit_records(next - 1, 5000).await?;
            if page.is_empty() {
                return Ok(ChainReport {
                    records: next - 1,
                    last_seq: next - 1,
                    head: hex::encode(prev),
                    broken: None,
                });
            }
            match verify(prev, next, &page) {
                Ok(h) => {
                    prev = h;
                    next += page.len() as i64;
                }
                Err(b) => {
                    let good = b.seq - 1;
                    return Ok(ChainReport {
                        records: good,
                        last_seq: good,
                        head: hex::encode(prev),
                        broken: Some(b),
                    });
                }
            }
        }
    }
}

/// Locks the chain head (before any read), so concurrent writers queue here.
pub(crate) async fn lock_head(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("UPDATE audit_head SET id = id WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Chains `events` after the head (locked by [`lock_head`] in the same transaction), inserts
/// them and moves the head; returns the first new seq.
pub(crate) async fn append_events(
    conn: &mut sqlx::AnyConnection,
    engine: crate::Engine,
    events: &[AuditEvent],
) -> Result<i64> {
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let head: String = get(&row, "hash")?;
    let mut hash: [u8; 32] = hex::decode(&head)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("audit head hash".into()))?;
    let first: i64 = get::<i64>(&row, "seq")? + 1;
    let records: Vec<AuditRecord> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (r, h) = chain(&hash, first + i as i64, e.clone());
            hash = h;
            r
        })
        .collect();
    for chunk in records.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, institution, action, subject, detail, prev_hash, hash) VALUES {}",
            crate::values_clause(engine, chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(ts(r.event.at))
                .bind(&r.event.actor)
                .bind(&r.event.institution)
                .bind(r.event.action.as_str())
                .bind(&r.event.subject)
                .bind(&r.event.detail)
                .bind(&r.prev_hash)
                .bind(&r.hash);
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(first + records.len() as i64 - 1)
        .bind(hex::encode(hash))
        .execute(&mut *conn)
        .await?;
    Ok(first)
}
