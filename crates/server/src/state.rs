//! Shared state, passed explicitly to every handler.

use crate::error::ApiResult;
use kakunin_core::audit::{AuditAction, AuditEvent};
use kakunin_evidence::certificate::{TrustAnchor, VerifiedCertificate};
use kakunin_store::audit::AuditWriter;
use kakunin_store::directory::Staff;
use kakunin_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long an authenticated token is trusted without asking the database again.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a nonce or challenge stays usable.
    pub nonce_ttl: chrono::Duration,
    /// Interval of the self-declaration re-check loop.
    pub recheck_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nonce_ttl: chrono::Duration::minutes(5),
            recheck_every: Duration::from_secs(30),
        }
    }
}

/// Cheaply clonable handle to everything a handler needs.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state's parts.
pub struct Inner {
    pub store: Store,
    pub audit: AuditWriter,
    pub trust: TrustAnchor,
    pub config: Config,
    tokens: RwLock<HashMap<String, (Staff, Instant)>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state and starts the audit writer. `trust` is the CA that issues
    /// user-authentication certificates (the demo CA unless configured otherwise).
    pub async fn new(
        store: Store,
        trust: TrustAnchor,
        config: Config,
    ) -> kakunin_store::Result<AppState> {
        crate::metrics_layer::handle(); // install the recorder before the first request
        let audit = AuditWriter::start(store.clone()).await?;
        Ok(AppState(Arc::new(Inner {
            store,
            audit,
            trust,
            config,
            tokens: RwLock::new(HashMap::new()),
        })))
    }

    /// The staff member holding `token`, cached briefly.
    pub async fn staff_for_token(&self, token: &str) -> ApiResult<Option<Staff>> {
        if let Some((s, at)) = self.tokens.read().expect("token cache").get(token) {
            if at.elapsed() < TOKEN_CACHE_TTL {
                return Ok(Some(s.clone()));
            }
        }
        let staff = self.store.staff_by_token(token).await?;
        if let Some(s) = &staff {
            let mut cache = self.tokens.write().expect("token cache");
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(token.to_owned(), (s.clone(), Instant::now()));
        }
        Ok(staff)
    }

    /// Appends an audit record and waits for its commit.
    pub async fn audit(
        &self,
        actor: &str,
        institution: Option<&str>,
        action: AuditAction,
        subject: &str,
        detail: serde_json::Value,
    ) -> ApiResult<i64> {
        Ok(self
            .audit
            .append(AuditEvent {
                at: kakunin_store::now(),
                actor: actor.to_owned(),
                institution: institution.map(str::to_owned),
                action,
                subject: subject.to_owned(),
                detail: detail.to_string(),
            })
            .await?)
    }

    /// Checks a user-authentication certificate: chain, expiry and revocation.
    pub async fn verify_certificate(&self, der: &[u8]) -> ApiResult<VerifiedCertificate> {
        // Parse and check the signature first, then ask the revocation list for that serial.
        let now = chrono::Utc::now();
        let cert = self.trust.verify(der, now, |_| false)?;
        if self.store.is_revoked(&cert.serial).await? {
            return Err(kakunin_evidence::EvidenceError::Revoked(cert.serial).into());
        }
        Ok(cert)
    }
}
