//! A real server for the tests of the parts that talk to it over HTTP (the reader and kiosk,
//! the terminal): on loopback, over a fresh SQLite database with demo data, trusting the demo CA.

use crate::{AppState, Config};

/// A running server with `persons` seeded persons (and the demo staff, tokens and readers'
/// institutions); answers its directory (keep it alive) and base URL.
pub async fn demo_server(persons: u64) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = kakunin_store::Store::connect(&kakunin_store::sqlite_url(&dir.path().join("k.db")))
        .await
        .expect("SQLite opens");
    store.migrate().await.expect("migrations apply");
    store.seed_persons(persons, |_| {}).await.expect("seed");
    let trust = kakunin_evidence::certificate::TrustAnchor::from_der(
        kakunin_evidence::ca::DemoCa::new()
            .expect("demo CA")
            .certificate_der()
            .to_vec(),
    )
    .expect("demo CA certificate");
    let state = AppState::new(store, trust, Config::default())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(crate::serve(state, listener));
    (dir, base)
}
