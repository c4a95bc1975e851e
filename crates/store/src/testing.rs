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
    let store = Store::connect(&format!("{base}/{name}")).await.unwrap();
    store.migrate().await.unwrap();
    store
}
