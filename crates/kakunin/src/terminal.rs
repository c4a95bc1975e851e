//! `kakunin terminal`: the folder interface for clinic software, answering through the API.

use anyhow::{Context, Result};
use kakunin_api::client::{ClientError, StaffClient};
use kakunin_api::eligibility::NumbersCheck;
use kakunin_api::visits::{NextStep, QueueQuery};
use kakunin_api::ApiCode;
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
    pub api: StaffClient,
    pub handle: tokio::runtime::Handle,
}

/// Requests checked at once by [`HttpChecker::check_all`].
const CONCURRENT_CHECKS: usize = 16;

impl HttpChecker {
    async fn check_one(&self, r: &CheckRequest) -> CheckOutcome {
        let req = NumbersCheck {
            insurer_number: r.insurer_number.clone(),
            symbol: r.symbol.clone(),
            number: r.number.clone(),
            branch: r.branch.clone(),
            birth_date: Some(r.birthdate),
            limit_consent: r.limit_consent,
        };
        match self.api.check_numbers(&req).await {
            Ok(result) => CheckOutcome::Found {
                result: Box::new(result),
                reference_number: format!("KKN{}", chrono::Utc::now().format("%Y%m%d%H%M%S%f")),
            },
            Err(e) if e.code() == Some(ApiCode::QualificationNotFound) => CheckOutcome::NotFound,
            Err(ClientError::Refused {
                status: 400..=499,
                code,
                message,
                ..
            }) => CheckOutcome::Refused {
                code: code.as_str().to_owned(),
                message,
            },
            Err(ClientError::Answer { detail, .. }) => CheckOutcome::Refused {
                code: "bad_answer".into(),
                message: format!("the service answered something unexpected: {detail}"),
            },
            Err(e) => CheckOutcome::Unavailable(e.to_string()),
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
    let base_url = args.server.base();
    let mut checker = HttpChecker {
        api: StaffClient::new(args.server.client()?, &base_url, &args.token),
        handle: tokio::runtime::Handle::current(),
    };
    println!(
        "kakunin terminal: watching {}/req, answering into res/ via {base_url}",
        args.dir.display(),
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
    let visits = c
        .api
        .queue(&QueueQuery {
            limit: Some(100),
            include_abandoned: false,
        })
        .await?;
    let mut written = 0;
    for v in visits {
        if v.next != NextStep::Done || v.started_at < since {
            continue;
        }
        if folder.face_written(&v.id) {
            continue;
        }
        let r = c.api.visit_result(&v.id).await?;
        let visit = CardVisit {
            visit_id: &v.id,
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

#[cfg(test)]
mod tests {
    use super::*;
    use kakunin_api::client::ReaderClient;
    use kakunin_api::visits::{ConsentRequest, IdentityEvidence, StartVisit};
    use kakunin_card::client::MyNumberCard;
    use kakunin_core::consent::ConsentSelection;

    /// A standard demo card checked in by PIN at a reader, consenting to medication and the
    /// limit category; answers the visit's id.
    async fn card_visit_by_pin(base: &str) -> String {
        let reader = ReaderClient::new(
            reqwest::Client::new(),
            base,
            "r-terminal-test",
            kakunin_evidence::attestation::ReaderKey::generate(),
        );
        let operator = StaffClient::new(reqwest::Client::new(), base, "demo-token-admin");
        let clinic = kakunin_store::seed::demo_institution_codes().0;
        kakunin_reader::enrol::register(&reader, &operator, Some(&clinic))
            .await
            .unwrap();
        let ca = kakunin_evidence::ca::DemoCa::new().unwrap();
        let face = kakunin_reader::demo::face(vec![]);
        let mut card = MyNumberCard::new(kakunin_reader::demo::card(&ca, 1, false, &face).unwrap());
        let der = card.read_auth_certificate().unwrap();
        let v = reader
            .start_visit(&StartVisit {
                certificate: kakunin_evidence::b64(&der),
                placed_by: Default::default(),
            })
            .await
            .unwrap();
        let nonce = reader.nonce(&v.id).await.unwrap().nonce;
        let signature = card.sign_with_pin("1234", nonce.as_bytes(), false).unwrap();
        let pin = IdentityEvidence::Pin {
            nonce,
            signature: kakunin_evidence::b64(signature),
            certificate: kakunin_evidence::b64(&der),
        };
        reader.identity(&v.id, &pin).await.unwrap();
        let consent = ConsentRequest {
            selection: ConsentSelection {
                medication: true,
                checkup: false,
                clinical: false,
                limit_amount: true,
            },
            assisted: false,
        };
        let done = reader.consent(&v.id, &consent).await.unwrap();
        assert_eq!(done.next, NextStep::Done, "{done:?}");
        done.id
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn completed_card_visits_are_written_to_face_once() {
        let (_dir, base) = kakunin_server::testing::demo_server(4).await;
        let folder_dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(folder_dir.path()).unwrap();
        let since = face_since(folder_dir.path()).unwrap();
        assert_eq!(
            face_since(folder_dir.path()).unwrap(),
            since,
            "kept across restarts"
        );
        let checker = HttpChecker {
            api: StaffClient::new(reqwest::Client::new(), &base, "demo-token-reception"),
            handle: tokio::runtime::Handle::current(),
        };
        let id = card_visit_by_pin(&base).await;

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
