//! `kakunin terminal`: the folder interface for clinic software, answering through the API.

use anyhow::{Context, Result};
use kakunin_core::eligibility::EligibilityResult;
use kakunin_terminal::folder::{CardVisit, CheckOutcome, Checker, Folder};
use kakunin_terminal::message::CheckRequest;
use std::path::PathBuf;
use std::time::Duration;

/// `kakunin terminal` arguments.
#[derive(clap::Args)]
pub struct TerminalArgs {
    /// The folder shared with the clinic software (holds req/, res/, face/).
    #[arg(long)]
    pub dir: PathBuf,
    #[command(flatten)]
    pub server: crate::tls::ServerConnection,
    /// API token of a reception staff member of this institution (`kakunin staff token`).
    #[arg(long, env = "KAKUNIN_TOKEN", default_value = "demo-token-reception")]
    pub token: String,
    /// How often req/ is scanned.
    #[arg(long, default_value_t = 100)]
    pub interval_ms: u64,
}

/// Checks requests through `POST /api/v1/eligibility/check`.
pub struct HttpChecker {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub handle: tokio::runtime::Handle,
}

/// Requests checked at once by [`HttpChecker::check_all`].
const CONCURRENT_CHECKS: usize = 16;

impl HttpChecker {
    /// A GET of the API as this terminal's staff member.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn check_one(&self, r: &CheckRequest) -> CheckOutcome {
        let body = serde_json::json!({
            "insurer_number": r.insurer_number, "symbol": r.symbol, "number": r.number, "branch": r.branch, "birth_date": r.birthdate,
            "limit_consent": r.limit_consent,
        });
        let answer = async {
            let res = self
                .http
                .post(format!("{}/api/v1/eligibility/check", self.base))
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await?;
            let status = res.status().as_u16();
            let text = res.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        }
        .await;
        let (status, text) = match answer {
            Ok(a) => a,
            Err(e) => return CheckOutcome::Unavailable(e.to_string()),
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200 => match serde_json::from_value::<EligibilityResult>(v) {
                Ok(result) => CheckOutcome::Found {
                    result: Box::new(result),
                    reference_number: format!("KKN{}", chrono::Utc::now().format("%Y%m%d%H%M%S%f")),
                },
                Err(e) => CheckOutcome::Refused {
                    code: "bad_answer".into(),
                    message: format!("the service answered something unexpected: {e}"),
                },
            },
            404 if v["error"]["code"] == "qualification_not_found" => CheckOutcome::NotFound,
            400..=499 => CheckOutcome::Refused {
                code: v["error"]["code"].as_str().unwrap_or("refused").to_owned(),
                message: v["error"]["message"]
                    .as_str()
                    .unwrap_or("refused by the eligibility service")
                    .to_owned(),
            },
            _ => CheckOutcome::Unavailable(format!("service answered {status}")),
        }
    }
}

impl Checker for HttpChecker {
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
pub async fn run(args: TerminalArgs) -> Result<()> {
    let mut folder =
        Folder::open(&args.dir).with_context(|| format!("cannot use {}", args.dir.display()))?;
    let mut checker = HttpChecker {
        http: args.server.client()?,
        base: args.server.base(),
        token: args.token,
        handle: tokio::runtime::Handle::current(),
    };
    println!(
        "kakunin terminal: watching {}/req, answering into res/ via {}",
        args.dir.display(),
        checker.base
    );
    let base = Duration::from_millis(args.interval_ms.max(10));
    let mut wait = base;
    let since = face_since(&args.dir)?;
    let mut last_face_pass = std::time::Instant::now() - FACE_EVERY;
    loop {
        if last_face_pass.elapsed() >= FACE_EVERY {
            last_face_pass = std::time::Instant::now();
            match face_pass(&folder, &checker, since).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(written = n, "card-reader results written to face/"),
                Err(e) => tracing::warn!("face/ results not written yet: {e:#}"),
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
fn face_since(dir: &std::path::Path) -> Result<chrono::DateTime<chrono::Utc>> {
    let path = dir.join("face/.since");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
            return Ok(t.with_timezone(&chrono::Utc));
        }
    }
    let now = chrono::Utc::now();
    std::fs::write(&path, now.to_rfc3339())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(now)
}

/// Writes a `face/` file for each completed card-reader visit of this institution not yet
/// written; answers how many were written.
async fn face_pass(
    folder: &Folder,
    c: &HttpChecker,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let visits: Vec<serde_json::Value> = c.get("/api/v1/visits?limit=100").await?;
    let mut written = 0;
    for v in visits {
        let started = v["started_at"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        let Some(id) = v["id"].as_str() else { continue };
        if v["next"] != "done" || started.is_none_or(|t| t < since) {
            continue;
        }
        if folder.face_written(id) {
            continue;
        }
        let r: VisitResult = c.get(&format!("/api/v1/visits/{id}/result")).await?;
        let visit = CardVisit {
            visit_id: id,
            result: &r.result,
            consent: r.consent,
            consented_at: r.consented_at.with_timezone(&chrono::Local).naive_local(),
        };
        if folder.write_face_result(&visit, chrono::Local::now().naive_local())? {
            written += 1;
        }
    }
    Ok(written)
}

/// The part of `GET /visits/{id}/result` the face file needs.
#[derive(serde::Deserialize)]
struct VisitResult {
    result: EligibilityResult,
    consent: kakunin_core::consent::ConsentSelection,
    consented_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::tests::{kiosk_and_server, post};
    use serde_json::json;

    #[tokio::test(flavor = "multi_thread")]
    async fn completed_card_visits_are_written_to_face_once() {
        let (kiosk, _dir, base) = kiosk_and_server(None).await;
        let folder_dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(folder_dir.path()).unwrap();
        let since = face_since(folder_dir.path()).unwrap();
        assert_eq!(
            face_since(folder_dir.path()).unwrap(),
            since,
            "kept across restarts"
        );
        let checker = HttpChecker {
            http: reqwest::Client::new(),
            base,
            token: "demo-token-reception".into(),
            handle: tokio::runtime::Handle::current(),
        };
        // A standard card by PIN, consenting to medication and the limit category.
        post(
            &kiosk,
            "/kiosk/api/card",
            json!({ "card_id": "C00000000001" }),
        )
        .await;
        post(&kiosk, "/kiosk/api/pin", json!({ "pin": "1234" })).await;
        let (_, step) = post(&kiosk, "/kiosk/api/consent", json!({ "medication": true, "checkup": false, "clinical": false, "limit_amount": true, "assisted": false })).await;
        assert_eq!(step["visit"]["next"], "done", "{step}");
        let id = step["visit"]["id"].as_str().unwrap().to_owned();

        assert_eq!(face_pass(&folder, &checker, since).await.unwrap(), 1);
        assert_eq!(
            face_pass(&folder, &checker, since).await.unwrap(),
            0,
            "once"
        );
        let name = std::fs::read_dir(folder_dir.path().join("face"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".xml"))
            .unwrap();
        assert!(
            name.starts_with(&format!("OQSsiquc01res_face_{id}_")),
            "{name}"
        );
        let bytes = std::fs::read(folder_dir.path().join("face").join(&name)).unwrap();
        let text = encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned();
        for want in [
            "<ReferenceClassification>1</ReferenceClassification>",
            "<PharmaceuticalInfoConsFlg>1</PharmaceuticalInfoConsFlg>",
            "<SpecificHealthCheckupsInfoConsFlg>0</SpecificHealthCheckupsInfoConsFlg>",
            "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }

        // Visits from before the terminal first ran on the folder are not written.
        let later = tempfile::tempdir().unwrap();
        let later_folder = Folder::open(later.path()).unwrap();
        let later_since = face_since(later.path()).unwrap();
        assert_eq!(
            face_pass(&later_folder, &checker, later_since)
                .await
                .unwrap(),
            0
        );
    }
}
