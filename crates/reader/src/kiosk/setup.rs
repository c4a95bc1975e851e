//! Setting up a kiosk from its [`KioskConfig`]: its reader key (created on first start) and
//! enrolment with the server, its card slot and face engine; standalone beside a card reader
//! ([`serve`]) or as the demo kiosk inside `kakunin serve` ([`embedded`]).

use super::slot::CardSlot;
use super::{guard, router, Kiosk};
use crate::enrol::{id_from_key, load_or_create_key, register};
use crate::{ReaderError, Result};
use axum::Router;
use kakunin_api::client::{ReaderClient, StaffClient};
use kakunin_face::FaceEngine;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a kiosk's cards come from.
#[derive(Debug, Clone)]
pub enum SlotConfig {
    /// The virtual demo cards, offered on the screen, with this photo on their chips (default:
    /// a drawn placeholder).
    Demo {
        /// The card photo file.
        photo: Option<PathBuf>,
        /// Read the demo cards' 照合番号B from their printed face through the camera, as for a
        /// real card, instead of using the number the demo issuer keeps.
        read_card_face: bool,
    },
    /// The PC/SC reader whose name contains `reader`.
    Pcsc {
        /// Part of the reader's name.
        reader: String,
        /// The cards are kakunin's demo cards (behind vpcd), whose 照合番号B is known, so their
        /// photo is read for face recognition. Never for real cards.
        demo_number_b: bool,
    },
}

/// A kiosk's settings (the binary fills them from its flags).
#[derive(Debug, Clone)]
pub struct KioskConfig {
    /// The server's base URL.
    pub server: String,
    /// Where the kiosk screen is served (`host:port`).
    pub listen: String,
    /// API token used to enrol the reader: the operator's (active at once, naming
    /// `institution`) or a clinic's (pending until the operator approves).
    pub token: String,
    /// The reader's institution, when the operator's token enrols it.
    pub institution: Option<String>,
    /// The reader's private key file (created on first start; the reader id derives from it).
    pub key_file: PathBuf,
    /// Where cards come from.
    pub slot: SlotConfig,
    /// Ask for a small head turn before attesting a face match (the active check against
    /// still photos). Off only for cameras that cannot show movement.
    pub active_check: bool,
    /// Let other machines use the kiosk's screen (it has no sign-in).
    pub remote_screen: bool,
}

/// The kiosk's reader client: its key from `key_file` (created on first start), its id derived
/// from the key.
fn kiosk_reader(
    http: reqwest::Client,
    server: &str,
    key_file: &std::path::Path,
) -> Result<ReaderClient> {
    let (key, _) = load_or_create_key(key_file)?;
    let id = id_from_key(&key);
    Ok(ReaderClient::new(http, server, &id, key))
}

/// The kiosk of `config`, enrolled with the server (its key created on first start).
pub async fn connect(http: reqwest::Client, config: &KioskConfig) -> Result<Kiosk> {
    let reader = kiosk_reader(http.clone(), &config.server, &config.key_file)?;
    let staff = StaffClient::new(http, &config.server, &config.token);
    register(&reader, &staff, config.institution.as_deref()).await?;
    build(reader, config)
}

fn build(reader: ReaderClient, config: &KioskConfig) -> Result<Kiosk> {
    let cards = match &config.slot {
        SlotConfig::Demo {
            photo,
            read_card_face,
        } => CardSlot::demo_read_from_face(demo_photo(photo.as_deref())?, *read_card_face)?,
        SlotConfig::Pcsc {
            reader,
            demo_number_b,
        } => CardSlot::Pcsc {
            reader: reader.clone(),
            number_b: demo_number_b.then(crate::demo::number_b),
        },
    };
    let mut kiosk = Kiosk::new(reader, load_engine(), cards);
    if !config.active_check {
        kiosk = kiosk.without_active_check();
    }
    Ok(kiosk)
}

/// The demo kiosk inside `kakunin serve`: its routes, and a task that enrols its reader with the
/// server once the server listens.
pub fn embedded(
    config: &KioskConfig,
    http: reqwest::Client,
) -> Result<(Router, impl std::future::Future<Output = ()>)> {
    let reader = kiosk_reader(http.clone(), &config.server, &config.key_file)?;
    let enrol = {
        let reader = reader.clone();
        let staff = StaffClient::new(http, &config.server, &config.token);
        let institution = config.institution.clone();
        async move { register_when_up(reader, staff, institution).await }
    };
    let kiosk = build(reader, config)?;
    let access = guard::Access {
        remote: config.remote_screen,
    };
    Ok((router(Arc::new(kiosk), access), enrol))
}

/// Enrols the embedded kiosk once the server it lives in listens (retried for 5 s).
async fn register_when_up(reader: ReaderClient, staff: StaffClient, institution: Option<String>) {
    for _ in 0..50 {
        match register(&reader, &staff, institution.as_deref()).await {
            Ok(_) => {
                tracing::info!(reader = %reader.id(), "kiosk reader registered");
                return;
            }
            Err(e) => {
                tracing::debug!("kiosk registration: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    tracing::error!(
        "the kiosk reader could not register with {}; the kiosk will answer unknown_reader",
        reader.base()
    );
}

/// The kiosk as its own process beside a card reader, talking to the server over the network:
/// serves its screen on `config.listen` until stopped.
pub async fn serve(http: reqwest::Client, config: &KioskConfig) -> Result<()> {
    let kiosk = connect(http, config).await?;
    let reader_id = kiosk.reader.id().to_owned();
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            ReaderError::Other(format!(
                "cannot listen on {} ({e}); use --listen",
                config.listen
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| ReaderError::Other(e.to_string()))?;
    // A kiosk screen on another device is asked for by listening beyond loopback.
    let access = guard::Access {
        remote: config.remote_screen || !addr.ip().is_loopback(),
    };
    let app = router(Arc::new(kiosk), access);
    println!(
        "kiosk (reader {reader_id}, server {}) at http://{addr}/kiosk",
        config.server
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
    .map_err(|e| ReaderError::Other(format!("the kiosk's screen stopped: {e}")))
}

fn demo_photo(path: Option<&std::path::Path>) -> Result<Vec<u8>> {
    match path {
        Some(p) => std::fs::read(p).map_err(|source| ReaderError::File {
            what: "cannot read the card photo",
            path: p.to_owned(),
            source,
        }),
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
