//! Setting up a kiosk: its reader key (created on first start), registration with the server,
//! and the demo kiosk embedded in `kakunin serve`.

use super::slot::CardSlot;
use super::{router, Kiosk};
use crate::reader::Agent;
use anyhow::{Context, Result};
use axum::Router;
use kakunin_evidence::attestation::ReaderKey;
use kakunin_face::FaceEngine;
use serde_json::json;
use std::sync::Arc;

/// Loads the reader key (creating it on first start) and registers it with the server when it is
/// new there. The reader id is derived from the key, so a new key is a new reader.
pub async fn connect(server: &str, key_file: &std::path::Path, token: &str) -> Result<Agent> {
    let agent = kiosk_agent(server, key_file)?;
    register(
        &agent.http,
        &agent.base,
        &agent.id,
        &agent.key.public_key_b64(),
        token,
    )
    .await?;
    Ok(agent)
}

/// The kiosk's agent: its key from `key_file` (created on first start), its id derived from it.
fn kiosk_agent(server: &str, key_file: &std::path::Path) -> Result<Agent> {
    let (key, _) = crate::reader::load_or_create_key(key_file)?;
    Ok(Agent {
        http: reqwest::Client::new(),
        base: server.trim_end_matches('/').to_owned(),
        id: format!("kiosk-{}", hex_prefix(&key)),
        key,
    })
}

/// Registers reader `id` with its public key; a reader registered on an earlier start (409) is
/// fine.
async fn register(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    public_key: &str,
    token: &str,
) -> Result<()> {
    let res = http
        .post(format!("{base}/api/v1/readers"))
        .bearer_auth(token)
        .json(&json!({ "id": id, "public_key": public_key }))
        .send()
        .await
        .with_context(|| format!("server {base} unreachable"))?;
    if !res.status().is_success() && res.status() != reqwest::StatusCode::CONFLICT {
        anyhow::bail!(
            "registering kiosk reader {id} failed: {}",
            res.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

fn hex_prefix(key: &ReaderKey) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.public_key_b64().as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo kiosk inside `kakunin serve`: its routes, and a task that registers its reader key
/// with the server once the server listens.
pub fn embedded(
    args: &crate::KioskArgs,
    server: &str,
) -> Result<(Router, impl std::future::Future<Output = ()>)> {
    let agent = kiosk_agent(server, &args.kiosk_key)?;
    let registration = register_when_up(
        agent.http.clone(),
        agent.base.clone(),
        agent.id.clone(),
        agent.key.public_key_b64(),
        args.kiosk_token.clone(),
    );
    let photo = demo_photo(args.kiosk_card_photo.as_deref())?;
    let engine = load_engine();
    let mut kiosk = Kiosk::with_demo_cards(agent, engine, photo)?;
    if args.no_active_check {
        kiosk = kiosk.without_active_check();
    }
    Ok((router(Arc::new(kiosk)), registration))
}

/// Registers the embedded kiosk once the server it lives in listens (retried for 5 s).
async fn register_when_up(
    http: reqwest::Client,
    base: String,
    id: String,
    public_key: String,
    token: String,
) {
    for _ in 0..50 {
        match register(&http, &base, &id, &public_key, &token).await {
            Ok(()) => {
                tracing::info!(reader = %id, "kiosk reader registered");
                return;
            }
            Err(e) => {
                tracing::debug!("kiosk registration: {e:#}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    tracing::error!(
        "the kiosk reader could not register with {base}; the kiosk will answer unknown_reader"
    );
}

/// `kakunin reader serve`: the kiosk as its own process beside a card reader, talking to the
/// server over the network.
pub async fn serve_standalone(
    server: &str,
    listen: &str,
    token: &str,
    key_file: &std::path::Path,
    pcsc: Option<String>,
    demo_number_b: bool,
    card_photo: Option<&std::path::Path>,
    active_check: bool,
) -> Result<()> {
    let agent = connect(server, key_file, token).await?;
    let engine = load_engine();
    let cards = match pcsc {
        Some(reader) => CardSlot::Pcsc {
            reader,
            number_b: demo_number_b.then(|| super::DEMO_NUMBER_B.to_owned()),
        },
        None => CardSlot::demo(demo_photo(card_photo)?)?,
    };
    let reader_id = agent.id.clone();
    let mut kiosk = Kiosk::new(agent, engine, cards);
    if !active_check {
        kiosk = kiosk.without_active_check();
    }
    let app = router(Arc::new(kiosk));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; use --listen"))?;
    println!(
        "kiosk (reader {reader_id}, server {server}) at http://{}/kiosk",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}

fn demo_photo(path: Option<&std::path::Path>) -> Result<Vec<u8>> {
    match path {
        Some(p) => {
            std::fs::read(p).with_context(|| format!("cannot read the card photo {}", p.display()))
        }
        None => Ok(include_bytes!("placeholder-photo.png").to_vec()),
    }
}

fn load_engine() -> Option<Arc<FaceEngine>> {
    match FaceEngine::load(&kakunin_face::models::model_dir(), Default::default()) {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            tracing::warn!("kiosk without face recognition (staff confirm visually): {e}");
            None
        }
    }
}
