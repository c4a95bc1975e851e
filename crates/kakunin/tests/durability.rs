//! Acknowledged writes survive `kill -9` (SPEC §12): a real `kakunin serve` process on SQLite
//! answers audited eligibility checks under load, is killed with SIGKILL mid-load, restarted on
//! the same file, and every check it had acknowledged is still in an intact audit chain.

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
    Command::new(env!("CARGO_BIN_EXE_kakunin"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--demo-persons",
            "200",
            "--database-url",
        ])
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
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
    // A port nobody uses now (bind, read, release), so we never talk to another server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
    child.0.kill().expect("SIGKILL");
    child.0.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acknowledged = acked.load(std::sync::atomic::Ordering::SeqCst);
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
