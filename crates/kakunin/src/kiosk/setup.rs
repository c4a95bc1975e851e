//! Setting up a kiosk: its reader key (created on first start), registration with the server,
//! and the demo kiosk embedded in `kakunin serve`.

use super::slot::CardSlot;
use super::{router, Kiosk};
use crate::reader::Agent;
use anyhow::{Context, Result};
use axum::Router;
use kakunin_evidence::attestation::ReaderKey;
use kakunin_face::FaceEngine;
use std::sync::Arc;

/// Loads the reader key (creating it on first start) and enrols it with the server when it is
/// new there, with `token` (the operator's, naming `institution`: active at once; a clinic's:
/// pending until the operator approves). The reader id is derived from the key, so a new key is
/// a new reader.
pub async fn connect(
    http: reqwest::Client,
    server: &str,
    key_file: &std::path::Path,
    token: &str,
    institution: Option<&str>,
) -> Result<Agent> {
    let agent = kiosk_agent(http, server, key_file)?;
    crate::reader::register(&agent, token, institution).await?;
    Ok(agent)
}

/// The kiosk's agent: its key from `key_file` (created on first start), its id derived from it.
fn kiosk_agent(http: reqwest::Client, server: &str, key_file: &std::path::Path) -> Result<Agent> {
    let (key, _) = crate::reader::load_or_create_key(key_file)?;
    Ok(Agent {
        http,
        base: server.trim_end_matches('/').to_owned(),
        id: format!("kiosk-{}", hex_prefix(&key)),
        key,
    })
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
    http: reqwest::Client,
    server: &str,
) -> Result<(Router, impl std::future::Future<Output = ()>)> {
    let registration = register_when_up(
        kiosk_agent(http.clone(), server, &args.kiosk_key)?,
        args.kiosk_token.clone(),
        kakunin_store::seed::demo_institution_codes().0,
    );
    let agent = kiosk_agent(http, server, &args.kiosk_key)?;
    let photo = demo_photo(args.kiosk_card_photo.as_deref())?;
    let engine = load_engine();
    let mut kiosk = Kiosk::with_demo_cards(agent, engine, photo)?;
    if args.no_active_check {
        kiosk = kiosk.without_active_check();
    }
    let access = super::guard::Access {
        remote: args.kiosk_public,
    };
    Ok((router(Arc::new(kiosk), access), registration))
}

/// Enrols the embedded kiosk with the demo clinic once the server it lives in listens
/// (retried for 5 s).
async fn register_when_up(agent: Agent, token: String, institution: String) {
    for _ in 0..50 {
        match crate::reader::register(&agent, &token, Some(&institution)).await {
            Ok(()) => {
                tracing::info!(reader = %agent.id, "kiosk reader registered");
                return;
            }
            Err(e) => {
                tracing::debug!("kiosk registration: {e:#}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    tracing::error!(
        "the kiosk reader could not register with {}; the kiosk will answer unknown_reader",
        agent.base
    );
}

/// `kakunin reader serve`: the kiosk as its own process beside a card reader, talking to the
/// server over the network.
pub async fn serve_standalone(
    server: &crate::tls::ServerConnection,
    listen: &str,
    token: &str,
    institution: Option<&str>,
    key_file: &std::path::Path,
    pcsc: Option<String>,
    demo_number_b: bool,
    card_photo: Option<&std::path::Path>,
    active_check: bool,
) -> Result<()> {
    let agent = connect(
        server.client()?,
        &server.base(),
        key_file,
        token,
        institution,
    )
    .await?;
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
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; use --listen"))?;
    let addr = listener.local_addr()?;
    // A kiosk screen on another device is asked for by listening beyond loopback.
    let access = super::guard::Access {
        remote: !addr.ip().is_loopback(),
    };
    let app = router(Arc::new(kiosk), access);
    println!(
        "kiosk (reader {reader_id}, server {}) at http://{addr}/kiosk",
        server.server
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
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
