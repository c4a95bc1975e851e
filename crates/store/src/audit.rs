//! The append-only, hash-chained audit log.
//!
//! One [`AuditWriter`] per process owns the chain's tip. Callers send events and wait for the
//! commit; the writer takes whatever has queued up since its last commit, chains it, and writes it
//! in one transaction (group commit). An event is acknowledged only after its commit, so an
//! acknowledged check is on disk even if the process is killed right after.

use crate::{get, parse_ts, ts, Result, Store, StoreError};
use kakunin_core::audit::{
    chain, verify, AuditAction, AuditEvent, AuditRecord, ChainBreak, GENESIS,
};
use serde::Serialize;
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
    /// Loads the chain's tip and starts the writer task.
    pub async fn start(store: Store) -> Result<AuditWriter> {
        let tip = store.audit_tip().await?;
        let (tx, rx) = mpsc::channel(16 * 1024);
        tokio::spawn(run(store, rx, tip));
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

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, mut tip: (i64, [u8; 32])) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        // Two tries: if another process appended first (a conflict on `seq`), reload the tip and
        // chain the batch again after it.
        let mut outcome = Err(StoreError::AuditWriterStopped);
        for attempt in 0..2 {
            let (records, new_tip) = chain_batch(&batch, tip);
            outcome = store
                .write_audit_batch(&records)
                .await
                .map(|()| (records, new_tip));
            match &outcome {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "audit batch failed; reloading the chain tip");
                    if let Ok(t) = store.audit_tip().await {
                        tip = t;
                    }
                }
            }
        }
        match outcome {
            Ok((records, new_tip)) => {
                tip = new_tip;
                for (job, r) in batch.drain(..).zip(&records) {
                    let _ = job.done.send(Ok(r.seq));
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

fn chain_batch(
    batch: &[Job],
    (mut seq, mut hash): (i64, [u8; 32]),
) -> (Vec<AuditRecord>, (i64, [u8; 32])) {
    let mut records = Vec::with_capacity(batch.len());
    for job in batch {
        seq += 1;
        let (r, h) = chain(&hash, seq, job.event.clone());
        hash = h;
        records.push(r);
    }
    (records, (seq, hash))
}

/// The outcome of verifying the whole chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// Records checked.
    pub records: i64,
    /// The last good sequence number.
    pub last_seq: i64,
    /// Hash of the last good record.
    pub head: String,
    /// Where the chain broke, if it did.
    pub broken: Option<ChainBreak>,
}

impl Store {
    async fn audit_tip(&self) -> Result<(i64, [u8; 32])> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok((0, GENESIS)),
            Some(r) => {
                let h: String = get(&r, "hash")?;
                let bytes = hex::decode(&h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| StoreError::Corrupt("audit hash".into()))?;
                Ok((get(&r, "seq")?, bytes))
            }
        }
    }

    async fn write_audit_batch(&self, records: &[AuditRecord]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from("INSERT INTO audit_log (seq, at, actor, institution, action, subject, detail, prev_hash, hash) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 9;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9
                ));
            }
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
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
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
