//! One audited action, one transaction: a [`Tx`] carries an action's business writes and its
//! audit records, and commits them together or not at all.
//!
//! A transaction locks the audit chain's head first (its first statement), so every audited
//! write in every process takes its turn there, as the group-committing
//! [`crate::audit::AuditWriter`] does. Taking the lock first also means the transaction never
//! has to upgrade a read snapshot to a write on SQLite (which fails at once instead of waiting).
//! A transaction dropped without [`Tx::commit`] rolls back: neither its rows nor its audit
//! records are kept.

use crate::{audit, Engine, Result, Store, StoreError};
use kakunin_core::audit::{AuditAction, AuditEvent};

/// An open transaction of one audited action. Business writes are its methods (in the modules
/// of what they write); [`Tx::audit`] queues the action's audit records; [`Tx::commit`] chains
/// them and commits.
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    engine: Engine,
    events: Vec<AuditEvent>,
}

impl Store {
    /// Opens the transaction of one audited action (waiting for the audit chain's head).
    pub async fn transaction(&self) -> Result<Tx> {
        let mut tx = self.pool.begin().await?;
        audit::lock_head(&mut tx).await?;
        Ok(Tx {
            tx,
            engine: self.engine,
            events: vec![],
        })
    }
}

impl Tx {
    /// The transaction's connection, for the write methods.
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// The database engine (for engine-specific SQL).
    /// Queues an audit record of this action, stamped now; it is chained and written at
    /// [`Tx::commit`].
    pub fn audit(
        &mut self,
        actor: &str,
        institution: Option<&str>,
        action: AuditAction,
        subject: &str,
        detail: serde_json::Value,
    ) {
        self.events.push(AuditEvent {
            at: crate::now(),
            actor: actor.to_owned(),
            institution: institution.map(str::to_owned),
            action,
            subject: subject.to_owned(),
            detail: detail.to_string(),
        });
    }

    /// Chains the queued audit records after the head and commits them with the business
    /// writes; answers their sequence numbers. A transaction with no audit record is refused
    /// ([`StoreError::Unaudited`]) and rolled back: every action that writes is audited.
    pub async fn commit(mut self) -> Result<Vec<i64>> {
        if self.events.is_empty() {
            return Err(StoreError::Unaudited);
        }
        let first = audit::append_events(&mut self.tx, self.engine, &self.events).await?;
        self.tx.commit().await?;
        Ok((first..first + self.events.len() as i64).collect())
    }

    /// Commits writes that are no staff member's action (the demo seed's setup) without an
    /// audit record.
    pub(crate) async fn commit_setup(self) -> Result<()> {
        debug_assert!(self.events.is_empty(), "use commit() for audited actions");
        self.tx.commit().await?;
        Ok(())
    }
}
