//! The `kakunin` command: run the service, seed demo data, migrate, benchmark.

mod bench;
mod card;
mod face;
mod reader;
mod staff;
mod terminal;
mod tls;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kakunin_evidence::ca::DemoCa;
use kakunin_evidence::certificate::TrustAnchor;
use kakunin_server::{AppState, Config};
use kakunin_store::Store;
use std::path::PathBuf;

/// kakunin: online eligibility verification with My Number cards, face-auth cards first.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API. With no arguments: ./kakunin.db (SQLite, WAL), demo data on first start.
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "KAKUNIN_BIND")]
        bind: String,
        /// Persons to generate when the database is new.
        #[arg(long, default_value_t = 1000)]
        demo_persons: u64,
        /// CA certificate (DER or PEM) that issues user-authentication certificates. Default: the
        /// built-in demo CA (never for production).
        #[arg(long, env = "KAKUNIN_TRUST_ANCHOR")]
        trust_anchor: Option<PathBuf>,
        #[command(flatten)]
        kiosk: KioskArgs,
        #[command(flatten)]
        tls: tls::ServerTls,
        /// Seconds a staff screen's sign-in lasts (default 8 hours).
        #[arg(long, default_value_t = 8 * 3600)]
        session_seconds: i64,
        /// Minutes without a step after which a visit still waiting on the patient (identity,
        /// registration offer, consent) leaves the reception queue as abandoned.
        #[arg(long, default_value_t = 30)]
        visit_expiry_minutes: i64,
    },
    /// Add N generated insured persons (with insurers, institutions and staff on a new database).
    Seed {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        persons: u64,
    },
    /// Apply database migrations.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
    /// The face engine: verify, detect, eval.
    Face {
        #[command(subcommand)]
        what: face::Face,
    },
    /// The card's printed face: read 照合番号B from a photograph, render and measure a test set.
    Card {
        #[command(subcommand)]
        what: card::Card,
    },
    /// The card-reader agent.
    Reader {
        #[command(subcommand)]
        what: reader::Reader,
    },
    /// The eligibility terminal's folder interface for clinic software (req/ → res/).
    Terminal(terminal::TerminalArgs),
    /// TLS for trying kakunin on a network.
    Tls {
        #[command(subcommand)]
        what: TlsCommand,
    },
    /// Staff accounts and API tokens, on the database directly (the operator's console).
    Staff {
        #[command(flatten)]
        db: Db,
        #[command(subcommand)]
        what: staff::StaffCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
}

/// TLS commands.
#[derive(Subcommand)]
enum TlsCommand {
    /// Writes a local CA (ca.pem), a server certificate and key for localhost, this host's name
    /// and each --name (server.pem, server.key), and a client certificate (client.pem,
    /// client.key) into an empty directory. For trying TLS, never for production.
    DevCa {
        #[arg(long)]
        out: PathBuf,
        /// Another host name or address the server is reached by.
        #[arg(long)]
        name: Vec<String>,
    },
}

/// The demo kiosk: a card-reader agent with virtual demo cards inside `serve`, its screen at
/// /kiosk. It talks to the API over HTTP with its own registered key, like any reader.
#[derive(clap::Args, Clone)]
pub struct KioskArgs {
    /// Do not run the demo kiosk.
    #[arg(long)]
    no_kiosk: bool,
    /// Face image stored on the demo cards' chips (the live camera is compared with it).
    /// Default: a drawn placeholder without a face, so face recognition hands over to staff.
    #[arg(long, env = "KAKUNIN_KIOSK_CARD_PHOTO")]
    kiosk_card_photo: Option<PathBuf>,
    /// Read the demo cards' 照合番号B from their printed face through the camera, as the kiosk
    /// must for a real card (`kakunin card render-face --demo` draws one to show it), instead of
    /// using the number the demo issuer keeps. Needs the `ocr` build feature.
    #[arg(long)]
    kiosk_read_card_face: bool,
    /// The kiosk reader's private key (created on first start, in the state directory
    /// $XDG_STATE_HOME/kakunin or ~/.local/state/kakunin).
    #[arg(long, default_value_os_t = kakunin_reader::enrol::state_path("kakunin-kiosk.key"))]
    kiosk_key: PathBuf,
    /// API token used to enrol the kiosk reader with the demo clinic (the demo operator's).
    #[arg(long, default_value = "demo-token-admin")]
    kiosk_token: String,
    /// Let other machines use the demo kiosk's screen (by default it answers on this machine
    /// only, since it has no sign-in).
    #[arg(long)]
    kiosk_public: bool,
    /// Attest a face match without asking for a small head turn first (the active check
    /// against still photos). Only for cameras that cannot show movement.
    #[arg(long)]
    no_active_check: bool,
}

/// Which database.
#[derive(clap::Args, Clone)]
pub struct Db {
    /// `sqlite://PATH?mode=rwc` or `postgres://…`; default ./kakunin.db.
    #[arg(long, env = "KAKUNIN_DATABASE_URL")]
    database_url: Option<String>,
}

impl Db {
    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| kakunin_store::sqlite_url(std::path::Path::new("kakunin.db")))
    }

    /// Connects and migrates.
    pub async fn open(&self) -> Result<Store> {
        let url = self.url();
        let store = Store::connect(&url)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        store
            .migrate()
            .await
            .context("cannot migrate the database")?;
        Ok(store)
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(a)) if a > s => format!("{}://***{}", &url[..s], &url[a..]),
        _ => url.to_owned(),
    }
}

/// Seeds `n` persons with a progress bar.
pub async fn seed_with_progress(store: &Store, n: u64) -> Result<()> {
    let bar = ProgressBar::new(n);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} seeding {pos}/{len} persons [{bar:40}] {per_sec} eta {eta}",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    store.seed_persons(n, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    Ok(())
}

/// The trust anchor: a configured CA certificate, or the demo CA.
pub fn trust_anchor(path: Option<&PathBuf>) -> Result<TrustAnchor> {
    let der = match path {
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("cannot read trust anchor {}", p.display()))?;
            pem_to_der(&bytes).unwrap_or(bytes)
        }
        None => DemoCa::new()?.certificate_der().to_vec(),
    };
    Ok(TrustAnchor::from_der(der)?)
}

fn pem_to_der(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    kakunin_evidence::unb64(&body).ok()
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let filter = match cli.command {
        Command::Bench { .. } | Command::Face { .. } | Command::Card { .. } => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()),
        )
        .init();
    match cli.command {
        Command::Serve {
            db,
            bind,
            demo_persons,
            trust_anchor: ta,
            kiosk: kiosk_args,
            tls: tls_args,
            session_seconds,
            visit_expiry_minutes,
        } => {
            let bind_addr: std::net::SocketAddr = tokio::net::lookup_host(&bind)
                .await
                .with_context(|| format!("cannot resolve --bind {bind}"))?
                .next()
                .with_context(|| format!("--bind {bind} names no address"))?;
            let tls_config = tls_args.config(&bind_addr)?;
            let store = db.open().await?;
            if store.is_empty().await? {
                println!("New database: generating {demo_persons} demo persons…");
                seed_with_progress(&store, demo_persons).await?;
            }
            if ta.is_none() {
                // A demo database from before API tokens: the demo kiosk enrols with one.
                store.ensure_demo_api_tokens().await?;
            }
            let config = Config {
                session_ttl: chrono::Duration::seconds(session_seconds.max(1)),
                visit_expiry: chrono::Duration::minutes(visit_expiry_minutes.max(1)),
                ..Config::default()
            };
            let state = AppState::new(store, trust_anchor(ta.as_ref())?, config).await?;
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| {
                    format!("cannot listen on {bind}; is another kakunin running? use --bind")
                })?;
            let addr = listener.local_addr()?;
            let scheme = if tls_config.is_some() {
                "https"
            } else {
                "http"
            };
            let host = if addr.ip().is_unspecified() {
                format!("localhost:{}", addr.port())
            } else {
                addr.to_string()
            };
            println!("kakunin is running at {scheme}://{host}/  (API under /api/v1, OpenAPI at /api/openapi.json)");
            println!("Demo sign-ins (staff id / password) and API tokens (Authorization: Bearer …), for the demo database only:");
            for ((id, _, role, password), (_, token)) in kakunin_store::seed::DEMO_STAFF
                .iter()
                .zip(kakunin_store::seed::DEMO_API_TOKENS)
            {
                println!("  {id:<20} {password:<20} {token:<26} {role:?}");
            }
            println!("Demo cards: C00000000001 standard (PIN {pin}), C00000000002 face-auth, C00000000003 face-auth not registered, C00000000004 standard (PIN {pin}) not registered", pin = kakunin_store::seed::DEMO_PIN);
            println!(
                "Demo clinic 医療機関コード {} (the terminal's requests name it; README has a complete one)",
                kakunin_store::seed::demo_institution_codes().0
            );
            // The demo kiosk holds demo cards from the demo CA: never beside a real trust anchor.
            let extra = if kiosk_args.no_kiosk || ta.is_some() {
                println!("Screens: http://{addr}/login");
                axum::Router::new()
            } else {
                // The embedded kiosk talks to the API over HTTP as any reader does: on the
                // listener itself when that is plain, else on a loopback-only listener of its
                // own (nothing crosses the network).
                let base = if tls_config.is_some() {
                    let inner = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let base = format!("http://{}", inner.local_addr()?);
                    let app = kakunin_server::app(state.clone());
                    tokio::spawn(async move {
                        axum::serve(
                            inner,
                            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
                        )
                        .await
                    });
                    base
                } else {
                    format!("http://127.0.0.1:{}", addr.port())
                };
                let config = kakunin_reader::KioskConfig {
                    server: base,
                    listen: String::new(),
                    token: kiosk_args.kiosk_token.clone(),
                    institution: Some(kakunin_store::seed::demo_institution_codes().0),
                    key_file: kiosk_args.kiosk_key.clone(),
                    slot: kakunin_reader::kiosk::SlotConfig::Demo {
                        photo: kiosk_args.kiosk_card_photo.clone(),
                        read_card_face: kiosk_args.kiosk_read_card_face,
                    },
                    active_check: !kiosk_args.no_active_check,
                    remote_screen: kiosk_args.kiosk_public,
                };
                let (router, register) =
                    kakunin_reader::kiosk::embedded(&config, reqwest::Client::new())?;
                tokio::spawn(register);
                println!("Screens: http://{addr}/login (staff: staff-reception / demo-reception, staff-clerk / demo-clerk), kiosk http://{addr}/kiosk");
                router
            };
            match tls_config {
                Some(config) => {
                    let app = kakunin_server::app_with(state, extra);
                    tls::serve_tls(listener, config, app).await?;
                }
                None => kakunin_server::serve_with(state, listener, extra).await?,
            }
        }
        Command::Seed { db, persons } => {
            let store = db.open().await?;
            let start = std::time::Instant::now();
            seed_with_progress(&store, persons).await?;
            println!(
                "seeded {persons} persons in {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
        Command::Migrate { db } => {
            db.open().await?;
            println!("database is migrated");
        }
        Command::Bench { what } => bench::run(what).await?,
        Command::Face { what } => face::run(what)?,
        Command::Card { what } => card::run(what)?,
        Command::Reader { what } => reader::run(what).await?,
        Command::Terminal(args) => terminal::run(args).await?,
        Command::Tls {
            what: TlsCommand::DevCa { out, name },
        } => tls::dev_ca(&out, &name)?,
        Command::Staff { db, what } => staff::run(&db.open().await?, what).await?,
        Command::Openapi => println!(
            "{}",
            serde_json::to_string_pretty(&kakunin_server::api_doc())?
        ),
    }
    Ok(())
}
