//! `kakunin staff`: staff accounts and API tokens, written to the database directly by the
//! operator (the same store calls the operator API makes), each change audited.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kakunin_core::audit::AuditAction;
use kakunin_core::roles::Role;
use kakunin_store::directory::{new_token, Staff};
use kakunin_store::{Store, Tx};
use std::io::BufRead;

/// Staff commands.
#[derive(Subcommand)]
pub enum StaffCommand {
    /// Adds a staff member. The password is read from standard input (one line).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// reception | pharmacist | municipal_clerk | admin
        #[arg(long)]
        role: String,
        /// The institution's code (医療機関コード, municipality code, or `operator`).
        #[arg(long)]
        institution: String,
    },
    /// Sets a staff member's password, read from standard input (one line).
    Passwd {
        #[arg(long)]
        id: String,
    },
    /// Gives a staff member a new random password, printed once (they change it after).
    Reset {
        #[arg(long)]
        id: String,
    },
    /// Issues an API token for a machine client (terminal, kiosk) of a staff member, with
    /// their role and institution, printed once.
    Token {
        #[arg(long)]
        id: String,
        /// What the token is for (e.g. `terminal reception-pc-1`).
        #[arg(long)]
        label: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// Lists API tokens (of one staff member with --id), never the tokens themselves.
    Tokens {
        #[arg(long)]
        id: Option<String>,
    },
    /// Revokes an API token by its id (from `staff tokens`), at once.
    RevokeToken {
        #[arg(long)]
        token_id: String,
    },
}

fn read_password() -> Result<String> {
    eprintln!(
        "password (one line on standard input, at least {} characters):",
        kakunin_store::directory::MIN_PASSWORD
    );
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    kakunin_store::directory::password_acceptable(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

/// Queues the operator's audit record of a change to `staff`'s account and commits it with the
/// change.
async fn commit(mut tx: Tx, staff: &str, detail: serde_json::Value) -> Result<()> {
    tx.audit(
        "operator-cli",
        None,
        AuditAction::StaffAccount,
        staff,
        detail,
    );
    tx.commit().await?;
    Ok(())
}

/// Runs a staff command.
pub async fn run(store: &Store, cmd: StaffCommand) -> Result<()> {
    match cmd {
        StaffCommand::Add {
            id,
            name,
            role,
            institution,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role {role}; one of reception, pharmacist, municipal_clerk, admin")
            })?;
            store.institution(&institution).await?;
            let password = read_password()?;
            let staff = Staff {
                id: id.clone(),
                institution_code: institution,
                name,
                role,
            };
            let mut tx = store.transaction().await?;
            tx.insert_staff(&staff, &password).await?;
            commit(tx, &id, serde_json::json!({ "op": "add", "role": role })).await?;
            println!("added {id} ({})", role.as_str());
        }
        StaffCommand::Passwd { id } => {
            let password = read_password()?;
            let mut tx = store.transaction().await?;
            tx.set_password(&id, &password).await?;
            commit(tx, &id, serde_json::json!({ "op": "passwd" })).await?;
            println!("password of {id} changed");
        }
        StaffCommand::Reset { id } => {
            let password = new_token("")[..20].to_owned();
            let mut tx = store.transaction().await?;
            tx.set_password(&id, &password).await?;
            commit(tx, &id, serde_json::json!({ "op": "reset" })).await?;
            println!("new password of {id} (shown once): {password}");
        }
        StaffCommand::Token { id, label, days } => {
            let expires = chrono::Utc::now() + chrono::Duration::days(days.clamp(1, 3650));
            let mut tx = store.transaction().await?;
            let (token, record) = tx.issue_api_token(&id, &label, expires).await?;
            commit(
                tx,
                &id,
                serde_json::json!({ "op": "token", "token_id": record.id, "label": label }),
            )
            .await?;
            println!(
                "API token {} for {id} ({}, {}), expires {} (shown once):\n{token}",
                record.id,
                record.role.as_str(),
                record.institution_code,
                record.expires_at.format("%Y-%m-%d")
            );
        }
        StaffCommand::Tokens { id } => {
            for t in store.api_tokens(id.as_deref()).await? {
                println!(
                    "{}  {:<20} {:<16} {:<12} expires {}  {}{}",
                    t.id,
                    t.staff_id,
                    t.role.as_str(),
                    t.institution_code,
                    t.expires_at.format("%Y-%m-%d"),
                    t.label,
                    if t.revoked_at.is_some() {
                        "  (revoked)"
                    } else {
                        ""
                    }
                );
            }
        }
        StaffCommand::RevokeToken { token_id } => {
            let mut tx = store.transaction().await?;
            match tx.revoke_api_token(&token_id).await? {
                Some(staff) => {
                    commit(
                        tx,
                        &staff,
                        serde_json::json!({ "op": "revoke_token", "token_id": token_id }),
                    )
                    .await?;
                    println!("revoked token {token_id} of {staff}");
                }
                None => {
                    bail!("no unrevoked API token has id {token_id}; see `kakunin staff tokens`")
                }
            }
        }
    }
    Ok(())
}
