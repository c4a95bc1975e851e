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
    let (key, _) = crate::reader::load_or_create_key(key_file)?;
    let id = format!("kiosk-{}", &hex_prefix(&key));
    let agent = Agent {
        http: reqwest::Client::new(),
        base: server.trim_end_matches('/').to_owned(),
        id: id.clone(),
        key,
    };
    let res = agent
        .http
        .post(format!("{}/api/v1/readers", agent.base))
        .bearer_auth(token)
        .json(&json!({ "id": id, "public_key": agent.key.public_key_b64() }))
        .send()
        .await
        .with_context(|| format!("server {} unreachable", agent.base))?;
    // 409: registered on an earlier start.
    if !res.status().is_success() && res.status() != reqwest::StatusCode::CONFLICT {
        anyhow::bail!(
            "registering kiosk reader {id} failed: {}",
            res.text().await.unwrap_or_default()
        );
    }
    Ok(agent)
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
    let (key, _) = crate::reader::load_or_create_key(&args.kiosk_key)?;
    let agent = Agent {
        http: reqwest::Client::new(),
        base: server.to_owned(),
        id: format!("kiosk-{}", hex_prefix(&key)),
        key,
    };
    let photo = demo_photo(args.kiosk_card_photo.as_deref())?;
    let engine = load_engine();
    let register = register(
        server.to_owned(),
        args.kiosk_key.clone(),
        args.kiosk_token.clone(),
    );
    let mut kiosk = Kiosk::with_demo_cards(agent, engine, photo)?;
    if args.no_active_check {
        kiosk = kiosk.without_active_check();
    }
    Ok((router(Arc::new(kiosk)), register))
}

async fn register(server: String, key_file: std::path::PathBuf, token: String) {
    for _ in 0..50 {
        match connect(&server, &key_file, &token).await {
            Ok(a) => {
                tracing::info!(reader = %a.id, "kiosk reader registered");
                return;
            }
            Err(e) => {
                tracing::debug!("kiosk registration: {e:#}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    tracing::error!(
        "the kiosk reader could not register with {server}; the kiosk will answer unknown_reader"
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
