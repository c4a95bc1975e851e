//! Test databases for this crate's and the server's tests: a fresh SQLite file always, and a fresh
//! PostgreSQL database when `KAKUNIN_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

use crate::Store;

/// Every database the repository tests run on: SQLite always, PostgreSQL when configured.
pub async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&crate::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let mut v = vec![(sqlite, Some(dir))];
    if let Ok(url) = std::env::var("KAKUNIN_TEST_POSTGRES_URL") {
        v.push((fresh_postgres(&url).await, None));
    }
    v
}

/// A new, empty PostgreSQL database on the server at `url`, migrated.
pub async fn fresh_postgres(url: &str) -> Store {
    let store = Store::connect(&fresh_postgres_url(url).await)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// Creates a new, empty PostgreSQL database on the server at `url` and answers its URL.
pub async fn fresh_postgres_url(url: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(url)
        .await
        .expect("KAKUNIN_TEST_POSTGRES_URL must reach a PostgreSQL server");
    let name = format!("kakunin_test_{}", hex::encode(rand::random::<[u8; 6]>()));
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
    format!("{base}/{name}")
}

/// Commits a test's own setup writes with an audit record naming the test as their actor (a
/// transaction that writes is always audited).
pub async fn commit_setup(mut tx: crate::Tx) {
    tx.audit(
        "test-setup",
        None,
        kakunin_core::audit::AuditAction::StaffAccount,
        "test",
        serde_json::json!({ "op": "test_setup" }),
    );
    tx.commit().await.expect("test setup commits");
}
