//! Shared state, passed explicitly to every handler.

use crate::error::ApiResult;
use crate::limits::{PhotoLookup, PhotoStore, SignInThrottle, Throttled};
use kakunin_core::audit::{AuditAction, AuditEvent};
use kakunin_evidence::certificate::{TrustAnchor, VerifiedCertificate};
use kakunin_store::audit::AuditWriter;
use kakunin_store::directory::Staff;
use kakunin_store::Store;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
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
    /// How long a staff screen's sign-in session lasts.
    pub session_ttl: chrono::Duration,
    /// After how long without a step a visit still waiting on the patient counts as abandoned
    /// and leaves the reception queue.
    pub visit_expiry: chrono::Duration,
    /// The move from health insurance cards to the マイナ保険証 (their last valid day).
    pub transition: kakunin_core::documents::Transition,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nonce_ttl: chrono::Duration::minutes(5),
            recheck_every: Duration::from_secs(30),
            session_ttl: chrono::Duration::hours(8),
            visit_expiry: chrono::Duration::minutes(30),
            transition: Default::default(),
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
    tokens: RwLock<HashMap<String, CachedToken>>,
    /// Card photos a reader handed over for visual mode, kept in memory only until staff decide
    /// (or [`crate::limits::PHOTO_TTL`] passes), capped: never written to the database.
    photos: Mutex<PhotoStore>,
    /// 照合番号B typed by staff for the reader holding the card, memory only.
    typed_numbers: Mutex<crate::limits::TypedNumbers>,
    /// Failed sign-ins per account and per source.
    sign_ins: Mutex<SignInThrottle>,
}

/// A token known to be valid: the staff member, when it was looked up, and when the session
/// ends (`None` for a long-lived staff token).
struct CachedToken {
    staff: Staff,
    looked_up: Instant,
    ends: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a bearer token turned out to be.
pub enum TokenStatus {
    Valid(Staff),
    /// A sign-in session that has ended.
    Expired,
    Unknown,
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
            photos: Mutex::new(PhotoStore::default()),
            typed_numbers: Mutex::default(),
            sign_ins: Mutex::new(SignInThrottle::default()),
        })))
    }

    /// Who holds `token`: a staff token or a sign-in session, cached briefly. A session's end is
    /// checked on every use, cached or not.
    pub async fn staff_for_token(&self, token: &str) -> ApiResult<TokenStatus> {
        let now = chrono::Utc::now();
        if let Some(c) = self.tokens.read().expect("token cache").get(token) {
            if c.looked_up.elapsed() < TOKEN_CACHE_TTL {
                return Ok(match c.ends {
                    Some(end) if end <= now => TokenStatus::Expired,
                    _ => TokenStatus::Valid(c.staff.clone()),
                });
            }
        }
        let (staff, ends) = match self.store.staff_by_token(token).await? {
            Some(s) => (s, None),
            None => match self.store.session(token).await? {
                Some((_, end)) if end <= now => return Ok(TokenStatus::Expired),
                Some((s, end)) => (s, Some(end)),
                None => return Ok(TokenStatus::Unknown),
            },
        };
        let mut cache = self.tokens.write().expect("token cache");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(
            token.to_owned(),
            CachedToken {
                staff: staff.clone(),
                looked_up: Instant::now(),
                ends,
            },
        );
        Ok(TokenStatus::Valid(staff))
    }

    /// Forgets every cached token (after an API token is revoked: the cache is keyed by the
    /// token, which is not stored).
    pub fn forget_all_tokens(&self) {
        self.tokens.write().expect("token cache").clear();
    }

    /// Forgets a cached token (after sign-out).
    pub fn forget_token(&self, token: &str) {
        self.tokens.write().expect("token cache").remove(token);
    }

    /// Whether a sign-in of `staff_id` from `source` may be tried now.
    pub fn sign_in_allowed(&self, staff_id: &str, source: Option<IpAddr>) -> Result<(), Throttled> {
        self.sign_ins
            .lock()
            .expect("sign-ins")
            .check(staff_id, source)
    }

    /// Records a password check of `staff_id` from `source`.
    pub fn record_sign_in(&self, staff_id: &str, source: Option<IpAddr>, ok: bool) {
        self.sign_ins
            .lock()
            .expect("sign-ins")
            .record(staff_id, source, ok);
    }

    /// Keeps the card photo of visit `id`, handed over by `reader`, for visual mode.
    pub fn hold_photo(&self, id: &str, reader: &str, photo: Vec<u8>) {
        self.photos.lock().expect("photos").hold(id, reader, photo);
    }

    /// The card photo held for visit `id`, or why there is none.
    pub fn held_photo(&self, id: &str) -> PhotoLookup {
        self.photos.lock().expect("photos").get(id)
    }

    /// The 照合番号B store of staff-typed numbers and the last offer of each visit.
    pub fn typed_numbers(&self) -> std::sync::MutexGuard<'_, crate::limits::TypedNumbers> {
        self.typed_numbers.lock().expect("typed numbers")
    }

    /// Drops the card photo of visit `id` (staff decided).
    pub fn drop_photo(&self, id: &str) {
        self.photos.lock().expect("photos").drop_photo(id);
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

    /// Appends an audit record by staff member `by`, at their institution, and waits for its
    /// commit.
    pub async fn audit_by(
        &self,
        by: &Staff,
        action: AuditAction,
        subject: &str,
        detail: serde_json::Value,
    ) -> ApiResult<i64> {
        self.audit(&by.id, Some(&by.institution_code), action, subject, detail)
            .await
    }

    /// Checks a user-authentication certificate: chain, expiry (with the grace period after it:
    /// `kakunin_core::certificate`) and revocation. Answers the certificate and where it stands.
    pub async fn verify_certificate(
        &self,
        der: &[u8],
    ) -> ApiResult<(VerifiedCertificate, kakunin_core::certificate::Standing)> {
        use kakunin_core::certificate::{standing, Standing};
        // Parse and check the signature first, then ask the revocation list for that serial.
        let now = chrono::Utc::now();
        let cert = self.trust.verify_issued(der, now, |_| false)?;
        let standing = standing(cert.not_after, now);
        if standing == Standing::Expired {
            return Err(kakunin_evidence::EvidenceError::Expired(
                cert.not_after.date_naive().to_string(),
            )
            .into());
        }
        if self.store.is_revoked(&cert.serial).await? {
            return Err(kakunin_evidence::EvidenceError::Revoked(cert.serial).into());
        }
        Ok((cert, standing))
    }
}
