//! Acknowledged writes survive `kill -9` (SPEC §12): a real `kakunin serve` process on SQLite
//! answers audited eligibility checks under load, is killed with SIGKILL mid-load, restarted on
//! the same file, and every check it had acknowledged is still in an intact audit chain. And an
//! audited write and its audit record are one transaction: killed mid-load, the database holds
//! neither a business row without its record nor a record without its row.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, passing or failing.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &std::path::Path, port: u16) -> Server {
    Server(spawn(db, port))
}

fn spawn(db: &std::path::Path, port: u16) -> Child {
    spawn_on(&format!("sqlite://{}?mode=rwc", db.display()), port)
}

fn spawn_on(url: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kakunin"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--demo-persons",
            "200",
            "--database-url",
            url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kakunin serve starts")
}

async fn wait_ready(base: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kakunin serve exited early: {status}");
        }
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

#[tokio::test]
async fn acknowledged_checks_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve(&db, port);
    wait_ready(&base, &mut child.0).await;
    let client = reqwest::Client::new();
    // The numbers of a seeded person, via a check the store would answer.
    let store = kakunin_store::Store::connect(&kakunin_store::sqlite_url(&db))
        .await
        .unwrap();
    let [insurer, symbol, number, branch] = store.sample_numbers(1).await.unwrap().remove(0);
    drop(store);
    let body = serde_json::json!({ "insurer_number": insurer, "symbol": symbol, "number": number, "branch": branch }).to_string();

    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = vec![];
    for _ in 0..8 {
        let (client, base, body, acked) =
            (client.clone(), base.clone(), body.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..2000 {
                let r = client
                    .post(format!("{base}/api/v1/eligibility/check"))
                    .bearer_auth("demo-token-reception")
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }));
    }
    // Kill mid-load.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let acknowledged = kill_9(child, tasks, &acked).await;
    assert!(
        acknowledged > 0,
        "some checks were answered before the kill"
    );

    // Restart on the same file: the chain is intact and holds every acknowledged check.
    let mut child = serve(&db, port);
    wait_ready(&base, &mut child.0).await;
    let store = kakunin_store::Store::connect(&kakunin_store::sqlite_url(&db))
        .await
        .unwrap();
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    let checks = store
        .audit_records(0, 1_000_000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.event.action == kakunin_core::audit::AuditAction::EligibilityCheck)
        .count();
    eprintln!("acknowledged {acknowledged}, audited after restart {checks}");
    assert!(
        checks >= acknowledged,
        "acknowledged {acknowledged} checks, only {checks} survived"
    );
    drop(child);
}

/// Kills the server with SIGKILL, lets the clients notice, and answers how many of their
/// requests had been acknowledged.
async fn kill_9(
    mut child: Server,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    acked: &std::sync::atomic::AtomicUsize,
) -> usize {
    child.0.kill().expect("SIGKILL");
    child.0.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    acked.load(std::sync::atomic::Ordering::SeqCst)
}

/// Asserts both directions: no row without its audit record, no record without its row.
fn same_rows_as_records(
    what: &str,
    stored: &std::collections::BTreeSet<String>,
    audited: &std::collections::BTreeSet<String>,
) {
    let unaudited: Vec<_> = stored.difference(audited).collect();
    assert!(
        unaudited.is_empty(),
        "{what} stored without an audit record: {unaudited:?}"
    );
    let phantom: Vec<_> = audited.difference(stored).collect();
    assert!(
        phantom.is_empty(),
        "audit records of {what} never stored: {phantom:?}"
    );
}

/// A port nobody uses now (bind, read, release), so we never talk to another server.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Drives `kakunin serve` on `url` with audited writes (API tokens issued, readers enrolled) from
/// 16 clients, kills it with SIGKILL mid-load, and compares the rows with the audit log.
async fn kill_under_write_load(url: &str) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Server(spawn_on(url, port));
    wait_ready(&base, &mut child.0).await;
    let client = reqwest::Client::new();
    let clinic = kakunin_store::seed::demo_institution_codes().0;
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = vec![];
    for t in 0..16 {
        let (client, base, clinic, acked) =
            (client.clone(), base.clone(), clinic.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100_000 {
                let (path, body) = if (t + i) % 2 == 0 {
                    (
                        "/api/v1/staff/staff-reception/tokens".to_owned(),
                        serde_json::json!({ "label": "kill-test", "days": 1 }),
                    )
                } else {
                    let key = kakunin_evidence::attestation::ReaderKey::generate();
                    (
                        "/api/v1/readers".to_owned(),
                        serde_json::json!({ "id": format!("kill-{t}-{i}"), "public_key": key.public_key_b64(), "institution_code": clinic }),
                    )
                };
                let r = client
                    .post(format!("{base}{path}"))
                    .bearer_auth("demo-token-admin")
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }));
    }
    // Kill mid-load, once some writes are through.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acknowledged = kill_9(child, tasks, &acked).await;
    assert!(
        acknowledged >= 200,
        "the load ran before the kill ({acknowledged} writes)"
    );

    let store = kakunin_store::Store::connect(url).await.unwrap();
    let report = store.verify_audit_chain().await.unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    let records = store.audit_records(0, 10_000_000).await.unwrap();
    use kakunin_core::audit::AuditAction;
    use std::collections::BTreeSet;
    let audited_tokens: BTreeSet<String> = records
        .iter()
        .filter(|r| r.event.action == AuditAction::StaffAccount)
        .filter_map(|r| {
            let d: serde_json::Value = serde_json::from_str(&r.event.detail).unwrap();
            (d["op"] == "token" && d["label"] == "kill-test")
                .then(|| d["token_id"].as_str().unwrap().to_owned())
        })
        .collect();
    let stored_tokens: BTreeSet<String> = store
        .api_tokens(Some("staff-reception"))
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.label == "kill-test")
        .map(|t| t.id)
        .collect();
    let audited_readers: BTreeSet<String> = records
        .iter()
        .filter(|r| {
            r.event.action == AuditAction::ReaderRegistered && r.event.subject.starts_with("kill-")
        })
        .map(|r| r.event.subject.clone())
        .collect();
    let stored_readers: BTreeSet<String> = store
        .readers(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .filter(|id| id.starts_with("kill-"))
        .collect();
    eprintln!(
        "acknowledged {acknowledged}; tokens stored {} audited {}; readers stored {} audited {}",
        stored_tokens.len(),
        audited_tokens.len(),
        stored_readers.len(),
        audited_readers.len()
    );
    assert!(
        stored_tokens.len() + stored_readers.len() >= acknowledged,
        "every acknowledged write survived"
    );
    same_rows_as_records("tokens", &stored_tokens, &audited_tokens);
    same_rows_as_records("readers", &stored_readers, &audited_readers);
}

#[tokio::test]
async fn a_write_and_its_audit_record_survive_kill_9_together_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_under_write_load(&kakunin_store::sqlite_url(&dir.path().join("k.db"))).await;
}

#[tokio::test]
async fn a_write_and_its_audit_record_survive_kill_9_together_on_postgres() {
    let Ok(admin) = std::env::var("KAKUNIN_TEST_POSTGRES_URL") else {
        eprintln!("KAKUNIN_TEST_POSTGRES_URL not set: PostgreSQL half skipped");
        return;
    };
    kill_under_write_load(&kakunin_store::testing::fresh_postgres_url(&admin).await).await;
}
