//! The terminal as a service: the folder ([`crate::folder`]) answered through the server's API
//! as a reception staff member (a [`StaffClient`]), and completed card-reader visits written to
//! `face/`. Deployed on the clinic PC beside the clinic software, apart from the server.

use crate::folder::{CardVisit, CheckOutcome, Checker, Folder};
use crate::kinds::{Ask, OtherOutcome, OtherRequest};
use crate::message::CheckRequest;
use crate::TerminalError;
use kakunin_api::client::{ClientError, StaffClient};
use kakunin_api::eligibility::NumbersCheck;
use kakunin_api::visits::{NextStep, QueueQuery};
use kakunin_api::ApiCode;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The terminal's settings (the binary fills them from its flags).
#[derive(Debug, Clone)]
pub struct TerminalConfig {
    /// The folder shared with the clinic software (holds req/, res/, face/).
    pub dir: PathBuf,
    /// How often req/ is scanned.
    pub interval: Duration,
}

/// Checks requests through `POST /api/v1/eligibility/check`.
pub struct ApiChecker {
    api: StaffClient,
    handle: tokio::runtime::Handle,
}

/// Requests checked at once by [`ApiChecker::check_all`].
const CONCURRENT_CHECKS: usize = 16;

impl ApiChecker {
    /// A checker asking through `api`, from within the tokio runtime of `handle` (the folder
    /// pass is synchronous; it blocks in place on the runtime).
    pub fn new(api: StaffClient, handle: tokio::runtime::Handle) -> ApiChecker {
        ApiChecker { api, handle }
    }

    async fn check_one(&self, r: &CheckRequest) -> CheckOutcome {
        let req = NumbersCheck {
            insurer_number: r.insurer_number.clone(),
            symbol: r.symbol.clone(),
            number: r.number.clone(),
            branch: r.branch.clone(),
            birth_date: Some(r.birthdate),
            limit_consent: r.limit_consent,
            on: r.confirmation_date,
            // The folder request does not say which document the clinic read the numbers
            // from (the format has no such field); the clinic's own desk judges it.
            document: None,
        };
        match self.api.check_numbers(&req).await {
            Ok(result) => CheckOutcome::Found {
                result: Box::new(result),
            },
            Err(e) if e.code() == Some(ApiCode::QualificationNotFound) => CheckOutcome::NotFound,
            Err(e) => match refusal(e) {
                Ok((code, message)) => CheckOutcome::Refused { code, message },
                Err(down) => CheckOutcome::Unavailable(down),
            },
        }
    }
}

/// A refusal from the service as the answer reports it; `None` when the service is not there.
fn refusal(e: ClientError) -> Result<(String, String), String> {
    match e {
        ClientError::Refused {
            status: 400..=499,
            code,
            message,
            ..
        } => Ok((code.as_str().to_owned(), message)),
        ClientError::Answer { detail, .. } => Ok((
            "bad_answer".into(),
            format!("the service answered something unexpected: {detail}"),
        )),
        e => Err(e.to_string()),
    }
}

impl ApiChecker {
    async fn other_one(&self, r: &OtherRequest) -> OtherOutcome {
        let done = match &r.ask {
            Ask::Information(q) => self
                .api
                .information_by_numbers(q)
                .await
                .map(OtherOutcome::Information),
            Ask::Register(reg) => self
                .api
                .register_reference(reg)
                .await
                .map(OtherOutcome::Registered),
            Ask::Batch(regs) => self
                .api
                .register_references(&kakunin_api::references::RegistrationBatch {
                    registrations: regs.clone(),
                })
                .await
                .map(OtherOutcome::Received),
            Ask::BatchResult(n) => self
                .api
                .reference_batch(n)
                .await
                .map(OtherOutcome::BatchResult),
        };
        match done {
            Ok(o) => o,
            Err(e) => match refusal(e) {
                Ok((code, message)) => OtherOutcome::Refused { code, message },
                Err(down) => OtherOutcome::Unavailable(down),
            },
        }
    }
}

impl Checker for ApiChecker {
    fn other(&mut self, r: &OtherRequest) -> OtherOutcome {
        let this = &*self;
        tokio::task::block_in_place(|| this.handle.block_on(this.other_one(r)))
    }

    fn check(&mut self, r: &CheckRequest) -> CheckOutcome {
        let this = &*self;
        tokio::task::block_in_place(|| this.handle.block_on(this.check_one(r)))
    }

    fn check_all(&mut self, requests: &[CheckRequest]) -> Vec<CheckOutcome> {
        use futures::StreamExt;
        let this = &*self;
        tokio::task::block_in_place(|| {
            this.handle.block_on(
                futures::stream::iter(requests)
                    .map(|r| this.check_one(r))
                    .buffered(CONCURRENT_CHECKS)
                    .collect(),
            )
        })
    }
}

/// Runs the terminal until stopped: scans req/, answers into res/, backs off while the service is
/// down (requests stay until answered) or the disk refuses writes.
pub async fn run(api: StaffClient, config: &TerminalConfig) -> Result<(), TerminalError> {
    // The terminal answers for its token's institution, and only for it.
    let me = api.current().await.map_err(|e| {
        TerminalError::Unavailable(format!("cannot learn whom this token belongs to: {e}"))
    })?;
    let mut folder = Folder::open(&config.dir)
        .map_err(|e| TerminalError::Folder(format!("cannot use {}: {e}", config.dir.display())))?
        .serving(&me.institution_code);
    tracing::info!(institution = %me.institution_code, staff = %me.id, "terminal answers for its institution");
    let mut checker = ApiChecker::new(api, tokio::runtime::Handle::current());
    let base = config.interval.max(Duration::from_millis(10));
    let mut wait = base;
    let since = face_since(&config.dir)?;
    let mut last_face_pass = std::time::Instant::now() - FACE_EVERY;
    loop {
        if last_face_pass.elapsed() >= FACE_EVERY {
            last_face_pass = std::time::Instant::now();
            match face_pass(&folder, &checker, since).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(written = n, "card-reader results written to face/"),
                Err(e) => tracing::warn!("face/ results not written yet: {e}"),
            }
        }
        match folder.pass(&mut checker, chrono::Local::now().naive_local()) {
            Ok(p) if p.deferred > 0 => {
                wait = (wait * 2).min(Duration::from_secs(10));
                tracing::warn!(
                    deferred = p.deferred,
                    retry_in_ms = wait.as_millis() as u64,
                    "eligibility service unavailable; requests kept"
                );
            }
            Ok(p) => {
                if p.answered > 0 {
                    tracing::info!(answered = p.answered, "answered requests");
                }
                wait = base;
            }
            Err(e) => {
                wait = (wait * 2).min(Duration::from_secs(10));
                tracing::error!(error = %e, "cannot write answers (disk full or folder gone?); requests kept");
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// How often completed card-reader visits are looked for.
const FACE_EVERY: Duration = Duration::from_secs(1);

/// Visits started before the terminal was first started on this folder are not written to
/// `face/` (the clinic software did not ask for them); the time is kept in `face/.since`.
pub fn face_since(dir: &Path) -> Result<chrono::DateTime<chrono::Utc>, TerminalError> {
    let path = dir.join("face/.since");
    if let Some(t) = read_time(&path) {
        return Ok(t);
    }
    let now = chrono::Utc::now();
    std::fs::write(&path, now.to_rfc3339())
        .map_err(|e| TerminalError::Folder(format!("cannot write {}: {e}", path.display())))?;
    Ok(now)
}

/// Visits read per request when looking for completed ones.
const FACE_PAGE: i64 = 500;

/// How long an unfinished visit holds the cursor back: one older than this that never completed
/// (the patient walked away) is passed over.
const FACE_PATIENCE: chrono::Duration = chrono::Duration::hours(24);

/// Where the face/ pass resumes: every visit started before it was written or will never
/// complete. Kept in `face/.cursor` across restarts; at first the time in `face/.since`.
fn face_cursor(dir: &Path, since: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    read_time(&dir.join("face/.cursor"))
        .unwrap_or(since)
        .max(since)
}

/// A time kept in a file of its own (RFC 3339), if the file holds one.
fn read_time(path: &Path) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = std::fs::read_to_string(path).ok()?;
    let t = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    Some(t.with_timezone(&chrono::Utc))
}

/// Writes a `face/` file for each completed card-reader visit of this institution started since
/// `since` and not yet written, however many completed while the terminal was stopped: it reads
/// the visits oldest first from a durable cursor, page by page, and moves the cursor up to the
/// oldest visit that may still complete. Answers how many were written.
pub async fn face_pass(
    folder: &Folder,
    c: &ApiChecker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<usize, TerminalError> {
    let unavailable = |e: ClientError| TerminalError::Unavailable(e.to_string());
    let start = face_cursor(folder.dir(), since);
    let mut scan = start;
    let mut hold: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut last = start;
    let mut written = 0;
    loop {
        let page = c
            .api
            .queue(&QueueQuery {
                limit: Some(FACE_PAGE),
                include_abandoned: true,
                since: Some(scan),
            })
            .await
            .map_err(unavailable)?;
        let full = page.len() as i64 == FACE_PAGE;
        for v in &page {
            last = last.max(v.started_at);
            let settled = matches!(v.next, NextStep::Done | NextStep::Fallback)
                || chrono::Utc::now() - v.updated_at > FACE_PATIENCE;
            if !settled {
                hold = Some(hold.map_or(v.started_at, |h| h.min(v.started_at)));
            }
            if v.next != NextStep::Done || folder.face_written(&v.id) {
                continue;
            }
            let r = c.api.visit_result(&v.id).await.map_err(unavailable)?;
            let visit = CardVisit {
                visit_id: &v.id,
                result: &r.result,
                consent: r.consent,
                consented_at: r.consented_at.with_timezone(&chrono::Local).naive_local(),
                prescription: r.prescription,
            };
            let now = chrono::Local::now().naive_local();
            if folder
                .write_face_result(&visit, now)
                .map_err(|e| TerminalError::Folder(format!("cannot write to face/: {e}")))?
            {
                written += 1;
            }
        }
        // The next page starts at the last visit seen (inclusive: visits sharing its start
        // time are not skipped; those already written are passed over).
        match page.last() {
            Some(v) if full && v.started_at > scan => scan = v.started_at,
            _ => break,
        }
    }
    let cursor = hold.unwrap_or(last);
    if cursor > start {
        let path = folder.dir().join("face/.cursor");
        std::fs::write(&path, cursor.to_rfc3339())
            .map_err(|e| TerminalError::Folder(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(written)
}
