//! Puts the virtual card behind a real PC/SC stack: vsmartcard's `vpcd` driver (Debian:
//! `vsmartcard-vpcd`) makes pcscd show a reader and waits for a virtual card to connect to it on
//! TCP port 35963. Each message either way is a 2-byte big-endian length and a payload; a 1-byte
//! payload from vpcd is a control code (0 power off, 1 power on, 2 reset, 4 send the ATR),
//! anything longer is a command APDU answered with the response APDU.

use crate::virtual_card::VirtualCard;
use crate::CardChannel;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// vpcd's default port.
pub const VPCD_PORT: u16 = 35963;

/// The virtual card's ATR: T=1, no historical bytes (3B 80 80 01 01).
pub const ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

fn read_msg(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

fn write_msg(s: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let len =
        u16::try_from(payload.len()).map_err(|_| std::io::Error::other("payload over 64 KiB"))?;
    s.write_all(&len.to_be_bytes())?;
    s.write_all(payload)
}

/// Connects `card` to vpcd at `addr` (e.g. `127.0.0.1:35963`) and serves it until `stop` is set
/// or vpcd closes the connection.
pub fn serve(card: &mut VirtualCard, addr: &str, stop: &AtomicBool) -> std::io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    s.set_nodelay(true)?;
    while !stop.load(Ordering::Relaxed) {
        let msg = match read_msg(&mut s) {
            Ok(m) => m,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        match msg[..] {
            [0x00] | [0x01] | [0x02] => {}
            [0x04] => write_msg(&mut s, &ATR)?,
            _ => {
                let response = card.transmit(&msg).map_err(std::io::Error::other)?;
                write_msg(&mut s, &response)?;
            }
        }
    }
    Ok(())
}
