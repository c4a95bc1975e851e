//! `kakunin terminal`: the folder interface for clinic software, answering through the API.

use anyhow::{Context, Result};
use kakunin_core::eligibility::EligibilityResult;
use kakunin_terminal::folder::{CheckOutcome, Checker, Folder};
use kakunin_terminal::message::CheckRequest;
use std::path::PathBuf;
use std::time::Duration;

/// `kakunin terminal` arguments.
#[derive(clap::Args)]
pub struct TerminalArgs {
    /// The folder shared with the clinic software (holds req/, res/, face/).
    #[arg(long)]
    pub dir: PathBuf,
    /// The kakunin server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Staff token of this institution.
    #[arg(long, env = "KAKUNIN_TOKEN", default_value = "demo-reception")]
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

impl Checker for HttpChecker {
    fn check(&mut self, r: &CheckRequest) -> CheckOutcome {
        let body = serde_json::json!({
            "insurer_number": r.insurer_number, "symbol": r.symbol, "number": r.number, "branch": r.branch, "birth_date": r.birthdate,
        });
        let request = self
            .http
            .post(format!("{}/api/v1/eligibility/check", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send();
        let answer = tokio::task::block_in_place(|| {
            self.handle.block_on(async {
                let res = request.await?;
                let status = res.status().as_u16();
                let text = res.text().await?;
                Ok::<_, reqwest::Error>((status, text))
            })
        });
        let (status, text) = match answer {
            Ok(a) => a,
            Err(e) => return CheckOutcome::Unavailable(e.to_string()),
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200 => match serde_json::from_value::<EligibilityResult>(v) {
                Ok(result) => CheckOutcome::Found {
                    result,
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

/// Runs the terminal until stopped: scans req/, answers into res/, backs off while the service is
/// down (requests stay until answered) or the disk refuses writes.
pub async fn run(args: TerminalArgs) -> Result<()> {
    let mut folder =
        Folder::open(&args.dir).with_context(|| format!("cannot use {}", args.dir.display()))?;
    let mut checker = HttpChecker {
        http: reqwest::Client::new(),
        base: args.server.trim_end_matches('/').to_owned(),
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
    loop {
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
