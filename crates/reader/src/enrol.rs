//! A reader's identity and its enrolment: the private key file (created on first start, the
//! owner's only, in the state directory) and the request that enrols it with the server.

use crate::{ReaderError, Result};
use kakunin_api::client::{ReaderClient, StaffClient};
use kakunin_api::readers::{ReaderStatus, RegisterReader};
use kakunin_api::ApiCode;
use kakunin_evidence::attestation::ReaderKey;
use std::path::PathBuf;

/// Loads the reader's key from `path`, creating it (and its directory) on first start; answers
/// whether it was created.
pub fn load_or_create_key(path: &std::path::Path) -> Result<(ReaderKey, bool)> {
    match std::fs::read(path) {
        Ok(bytes) => Ok((
            ReaderKey::from_bytes(&bytes).map_err(|_| ReaderError::BadKey(path.to_owned()))?,
            false,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::io::Write;
            use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
            let key = ReaderKey::generate();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| ReaderError::File {
                        what: "cannot create the key directory",
                        path: dir.to_owned(),
                        source,
                    })?;
            }
            // The reader's private key: readable by its owner only, never over another file.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(&key.to_bytes()))
                .map_err(|source| ReaderError::File {
                    what: "cannot write the reader key",
                    path: path.to_owned(),
                    source,
                })?;
            Ok((key, true))
        }
        Err(source) => Err(ReaderError::File {
            what: "cannot read the reader key",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Enrols `reader` with the server using an API token (`staff`): active at once with the
/// operator's token (naming `institution`), pending until the operator approves it with a
/// clinic's. A reader enrolled on an earlier start (`reader_exists`) is fine. Answers the
/// status the server gave, if it enrolled the reader now.
pub async fn register(
    reader: &ReaderClient,
    staff: &StaffClient,
    institution: Option<&str>,
) -> Result<Option<ReaderStatus>> {
    let req = RegisterReader {
        id: reader.id().to_owned(),
        public_key: reader.key().public_key_b64(),
        institution_code: institution.map(str::to_owned),
    };
    match staff.register_reader(&req).await {
        Ok(view) => {
            if view.status == ReaderStatus::Pending {
                tracing::warn!(reader = %view.id, "enrolled as pending: the operator approves it (POST /api/v1/readers/{}/status {{\"action\":\"approve\"}}); until then the server refuses its requests", view.id);
            }
            Ok(Some(view.status))
        }
        Err(e) if e.code() == Some(ApiCode::ReaderExists) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The id of a reader that names itself after its key (the kiosk): `kiosk-` and 12 hex digits
/// of the key's hash, so a new key is a new reader.
pub fn id_from_key(key: &ReaderKey) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.public_key_b64().as_bytes());
    format!("kiosk-{}", hex::encode(&digest[..6]))
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
