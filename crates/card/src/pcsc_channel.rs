//! A real PC/SC reader as a [`CardChannel`] (cargo feature `pcsc`; needs libpcsclite and pcscd).

use crate::{CardChannel, CardError};

/// A connected card on a PC/SC reader.
pub struct PcscChannel {
    card: pcsc::Card,
}

fn transport(e: pcsc::Error) -> CardError {
    match e {
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard => CardError::Removed,
        other => CardError::Transport(format!(
            "{other}; is pcscd running and the reader connected?"
        )),
    }
}

impl PcscChannel {
    /// Connects to the card in the first reader whose name contains `reader_name` (any reader
    /// when empty).
    pub fn connect(reader_name: &str) -> Result<PcscChannel, CardError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(transport)?;
        let readers = ctx.list_readers_owned().map_err(transport)?;
        let reader = readers
            .iter()
            .find(|r| r.to_string_lossy().contains(reader_name))
            .ok_or_else(|| {
                CardError::Transport(format!(
                    "no reader named like {reader_name:?}; readers: {readers:?}"
                ))
            })?;
        let card = ctx
            .connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(transport)?;
        Ok(PcscChannel { card })
    }

    /// Names of the readers pcscd knows.
    pub fn readers() -> Result<Vec<String>, CardError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(transport)?;
        Ok(ctx
            .list_readers_owned()
            .map_err(transport)?
            .iter()
            .map(|r| r.to_string_lossy().into_owned())
            .collect())
    }
}

impl CardChannel for PcscChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let r = self.card.transmit(command, &mut buf).map_err(transport)?;
        Ok(r.to_vec())
    }
}
