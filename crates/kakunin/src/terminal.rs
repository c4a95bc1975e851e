//! `kakunin terminal`: the flags of the clinic-software folder interface (`kakunin-terminal`'s
//! service), turned into its settings.

use anyhow::Result;
use kakunin_api::client::StaffClient;
use kakunin_terminal::service::TerminalConfig;
use std::path::PathBuf;
use std::time::Duration;

/// `kakunin terminal` arguments.
#[derive(clap::Args)]
pub struct TerminalArgs {
    /// The folder shared with the clinic software (holds req/, res/, face/).
    #[arg(long)]
    pub dir: PathBuf,
    #[command(flatten)]
    pub server: crate::tls::ServerConnection,
    /// API token of a reception staff member of this institution (`kakunin staff token`).
    #[arg(long, env = "KAKUNIN_TOKEN", default_value = "demo-token-reception")]
    pub token: String,
    /// How often req/ is scanned.
    #[arg(long, default_value_t = 100)]
    pub interval_ms: u64,
}

/// Runs the terminal until stopped.
pub async fn run(args: TerminalArgs) -> Result<()> {
    let base = args.server.base();
    let api = StaffClient::new(args.server.client()?, &base, &args.token);
    println!(
        "kakunin terminal: watching {}/req, answering into res/ via {base}",
        args.dir.display(),
    );
    let config = TerminalConfig {
        dir: args.dir,
        interval: Duration::from_millis(args.interval_ms),
    };
    Ok(kakunin_terminal::service::run(api, &config).await?)
}
