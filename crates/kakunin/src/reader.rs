//! `kakunin reader`: the flags of the card-reader agent and kiosk service (`kakunin-reader`),
//! turned into their settings.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kakunin_api::client::{ReaderClient, StaffClient};
use kakunin_reader::agent::DemoSlot;
use kakunin_reader::enrol::{load_or_create_key, register, state_path};
use kakunin_reader::{kiosk::SlotConfig, KioskConfig};
use std::path::PathBuf;

/// Reader commands.
#[derive(Subcommand)]
pub enum Reader {
    /// Runs whole visits with virtual demo cards against a running server, printing each step.
    Demo {
        #[command(flatten)]
        server: crate::tls::ServerConnection,
        /// API token used once to enrol this reader: the operator's (active at once, naming
        /// --institution) or a clinic's (pending until the operator approves).
        #[arg(long, default_value = "demo-token-admin", env = "KAKUNIN_TOKEN")]
        token: String,
        /// The reader's institution, when the operator's token enrols it (default: the demo
        /// clinic).
        #[arg(long)]
        institution: Option<String>,
        /// Reader id.
        #[arg(long, default_value = "reader-demo")]
        id: String,
        /// Where the reader's private key is kept (created on first start; default in the
        /// state directory, $XDG_STATE_HOME/kakunin or ~/.local/state/kakunin).
        #[arg(long, default_value_os_t = state_path("reader-demo.key"))]
        key_file: PathBuf,
        /// Photo stored on the virtual cards (a face image; greyscale on real cards).
        #[arg(long, required = true)]
        card_photo: PathBuf,
        /// Live camera frame(s) shown to the reader, tried in order (one per attempt).
        #[arg(long)]
        live: Vec<PathBuf>,
        /// Read the virtual cards through pcscd (vpcd) instead of directly (needs the `pcsc`
        /// build feature and ./scripts/setup-pcsc).
        #[arg(long)]
        pcsc: bool,
    },
    /// Runs the kiosk service: the patient's screen at /kiosk, its camera frames and its card
    /// slot (a PC/SC reader, or the virtual demo cards), against a running server.
    Serve {
        #[command(flatten)]
        server: crate::tls::ServerConnection,
        /// Where the kiosk screen is served (beyond loopback only when the screen is another
        /// device).
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
        /// API token used to enrol this reader: the operator's (active at once, naming
        /// --institution) or a clinic's (pending until the operator approves).
        #[arg(long, default_value = "demo-token-admin", env = "KAKUNIN_TOKEN")]
        token: String,
        /// The reader's institution, when the operator's token enrols it (default: the demo
        /// clinic).
        #[arg(long)]
        institution: Option<String>,
        /// The reader's private key (created on first start; the reader id derives from it;
        /// default in the state directory).
        #[arg(long, default_value_os_t = state_path("kakunin-kiosk.key"))]
        key_file: PathBuf,
        /// Read cards from the PC/SC reader whose name contains this text (needs the `pcsc`
        /// build feature), instead of offering the virtual demo cards.
        #[arg(long)]
        pcsc: Option<String>,
        /// With --pcsc: the cards are kakunin's demo cards (behind vpcd), whose 照合番号B is
        /// known, so their photo is read for face recognition. Never for real cards.
        #[arg(long)]
        demo_number_b: bool,
        /// Photo on the virtual demo cards' chips (default: a drawn placeholder).
        #[arg(long)]
        card_photo: Option<PathBuf>,
        /// Read the virtual demo cards' 照合番号B from their printed face through the camera,
        /// as for a real card (needs the `ocr` build feature).
        #[arg(long)]
        read_card_face: bool,
        /// Attest a face match without asking for a small head turn first.
        #[arg(long)]
        no_active_check: bool,
    },
}

/// With the demo operator token and no --institution, the reader belongs to the demo clinic.
fn institution_or_demo(institution: Option<String>, token: &str) -> Option<String> {
    institution.or_else(|| {
        (token == "demo-token-admin").then(|| kakunin_store::seed::demo_institution_codes().0)
    })
}

/// Runs a reader command.
pub async fn run(cmd: Reader) -> Result<()> {
    match cmd {
        Reader::Demo {
            server,
            token,
            institution,
            id,
            key_file,
            card_photo,
            live,
            pcsc,
        } => {
            let institution = institution_or_demo(institution, &token);
            demo(
                &server,
                &token,
                institution.as_deref(),
                &id,
                &key_file,
                &card_photo,
                &live,
                pcsc,
            )
            .await
        }
        Reader::Serve {
            server,
            listen,
            token,
            institution,
            key_file,
            pcsc,
            demo_number_b,
            card_photo,
            no_active_check,
            read_card_face,
        } => {
            let config = KioskConfig {
                server: server.base(),
                listen,
                institution: institution_or_demo(institution, &token),
                token,
                key_file,
                slot: match pcsc {
                    Some(reader) => SlotConfig::Pcsc {
                        reader,
                        demo_number_b,
                    },
                    None => SlotConfig::Demo {
                        photo: card_photo,
                        read_card_face,
                    },
                },
                active_check: !no_active_check,
                remote_screen: false,
            };
            Ok(kakunin_reader::kiosk::serve(server.client()?, &config).await?)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn demo(
    server: &crate::tls::ServerConnection,
    token: &str,
    institution: Option<&str>,
    id: &str,
    key_file: &std::path::Path,
    card_photo: &std::path::Path,
    live: &[PathBuf],
    pcsc: bool,
) -> Result<()> {
    let http = server.client()?;
    let base = server.base();
    let (key, created) = load_or_create_key(key_file)?;
    let reader = ReaderClient::new(http.clone(), &base, id, key);
    if http.get(format!("{base}/readyz")).send().await.is_err() {
        bail!("server {base} unreachable; start it with ./scripts/serve. At the kiosk: offer the fallbacks (insurance card or eligibility certificate; Mynaportal for standard cards; the self-declaration form)");
    }
    if created {
        let staff = StaffClient::new(http, &base, token);
        if let Err(e) = register(&reader, &staff, institution).await {
            std::fs::remove_file(key_file).ok();
            return Err(e.into());
        }
        println!(
            "registered reader {id} with the server (key in {})",
            key_file.display()
        );
    }
    let photo = std::fs::read(card_photo)
        .with_context(|| format!("cannot read the card photo {}", card_photo.display()))?;
    let frames: Vec<_> = live
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            kakunin_face::image::decode(&bytes).with_context(|| format!("{}", p.display()))
        })
        .collect::<Result<_>>()?;
    let slot = if pcsc {
        DemoSlot::Pcsc
    } else {
        DemoSlot::Direct
    };
    Ok(kakunin_reader::agent::demo_visits(&reader, photo, &frames, slot).await?)
}
