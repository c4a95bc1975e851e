//! A reader's identity and its enrolment: the private key file (created on first start, the
//! owner's only, in the state directory) and the request that enrols it with the server.

use crate::reader::Agent;
use anyhow::{bail, Context, Result};
use kakunin_evidence::attestation::ReaderKey;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Loads the reader's key from `path`, creating it (and its directory) on first start; answers
/// whether it was created.
pub(crate) fn load_or_create_key(path: &std::path::Path) -> Result<(ReaderKey, bool)> {
    match std::fs::read(path) {
        Ok(bytes) => Ok((ReaderKey::from_bytes(&bytes)?, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            let key = ReaderKey::generate();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            // The reader's private key: readable by its owner only, never over another file.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(&key.to_bytes()))
                .with_context(|| format!("cannot write the reader key to {}", path.display()))?;
            Ok((key, true))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the reader key {}", path.display())),
    }
}

/// Enrols the agent's reader with the server using an API token: active at once with the
/// operator's token (naming `institution`), pending until the operator approves it with a
/// clinic's. A reader enrolled on an earlier start (409) is fine.
pub(crate) async fn register(agent: &Agent, token: &str, institution: Option<&str>) -> Result<()> {
    let mut body = json!({ "id": agent.id, "public_key": agent.key.public_key_b64() });
    if let Some(code) = institution {
        body["institution_code"] = code.into();
    }
    let res = agent
        .http
        .post(format!("{}/api/v1/readers", agent.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("server {} unreachable", agent.base))?;
    let status = res.status();
    if status == reqwest::StatusCode::CONFLICT {
        return Ok(());
    }
    let v: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "enrolling reader {} failed: {} — {}",
            agent.id,
            v["error"]["code"].as_str().unwrap_or("?"),
            v["error"]["message"].as_str().unwrap_or("")
        );
    }
    if v["status"] == "pending" {
        println!(
            "reader {} is enrolled as pending: the operator approves it (POST /api/v1/readers/{}/status {{\"action\":\"approve\"}}); until then the server refuses its requests",
            agent.id, agent.id
        );
    }
    Ok(())
}

/// `name` in kakunin's state directory: $XDG_STATE_HOME/kakunin, else ~/.local/state/kakunin
/// (key files stay out of the working directory, which may be a repository).
pub fn state_path(name: &str) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")));
    match base {
        Some(b) => b.join("kakunin").join(name),
        None => PathBuf::from(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_reader_key_is_created_for_its_owner_only_in_its_own_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/kakunin/reader.key");
        let (key, created) = load_or_create_key(&path).unwrap();
        assert!(created);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let (again, created) = load_or_create_key(&path).unwrap();
        assert!(!created);
        assert_eq!(again.public_key_b64(), key.public_key_b64());
        assert!(state_path("x.key").ends_with("kakunin/x.key"));
    }
}
