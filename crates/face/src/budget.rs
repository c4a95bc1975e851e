//! How much memory decoding an image would take, judged from its header before any decoding,
//! and a process-wide account of the memory that decodes in flight hold.
//!
//! Why: a decoder allocates what the header asks for. An 89-byte JPEG 2000 codestream that
//! declares 4000×4000 pixels in 1×1 tiles made `hayro-jpeg2000` allocate ~7 GB of tile records
//! and abort the process — the API and the audit writer with it. So every image is sized from
//! its header first (tiles, components, resolution levels, precincts, code-blocks and layers
//! for JPEG 2000; dimensions, sampling and progressive scans for JPEG; dimensions and sample
//! size for PNG) and refused above [`DECODE_BUDGET`]; and all decodes at once hold at most
//! [`IN_FLIGHT_BUDGET`], so many medium images at once cannot add up to an abort either.
//!
//! The constants per record are upper bounds of what the decoders keep, measured as peak RSS of
//! `hayro-jpeg2000` 0.3.5 on crafted codestreams (the generator in `tests/hostile_images.rs`):
//! 1000² px, 3 components, 4×4 code-blocks in 2×2 precincts: 651 MiB actual, 1.3 GiB
//! estimated; 1000², 1 component, 4×4 code-blocks: 28 / 33 MiB; 2000², 3 components, one
//! tile: 126 / 160 MiB; 300² in 1×1 tiles: 23 / 237 MiB (tiles are over-counted on purpose:
//! each tile's decode allocates again).

use crate::FaceError;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest memory one decode may need.
pub const DECODE_BUDGET: u64 = 256 << 20;
/// Largest memory all decodes in flight may hold together.
pub const IN_FLIGHT_BUDGET: u64 = 1 << 30;
/// Most scans a JPEG may have: each progressive scan walks every coefficient again, so a file
/// of thousands of tiny scans costs seconds of CPU without being large.
pub const MAX_JPEG_SCANS: usize = 256;

/// Memory held by decodes in flight, against a limit.
pub struct Account {
    held: AtomicU64,
    limit: u64,
}

/// The process's account: every decode reserves from it.
static IN_FLIGHT: Account = Account::new(IN_FLIGHT_BUDGET);

/// Memory reserved for one decode; given back when dropped.
pub struct Reservation(&'static Account, u64);

impl Drop for Reservation {
    fn drop(&mut self) {
        self.0.held.fetch_sub(self.1, Ordering::AcqRel);
    }
}

impl Account {
    /// An account that holds at most `limit` bytes.
    pub const fn new(limit: u64) -> Account {
        Account {
            held: AtomicU64::new(0),
            limit,
        }
    }

    /// Reserves `bytes`: refused with [`FaceError::ImageTooCostly`] above [`DECODE_BUDGET`],
    /// and with [`FaceError::Busy`] while other decodes hold the rest of the limit.
    pub fn reserve(
        &'static self,
        bytes: u64,
        format: &'static str,
    ) -> Result<Reservation, FaceError> {
        if bytes > DECODE_BUDGET {
            return Err(FaceError::ImageTooCostly {
                format,
                needed_mib: bytes.div_ceil(1 << 20),
                budget_mib: DECODE_BUDGET >> 20,
            });
        }
        let mut current = self.held.load(Ordering::Acquire);
        loop {
            if current + bytes > self.limit {
                return Err(FaceError::Busy);
            }
            match self.held.compare_exchange_weak(
                current,
                current + bytes,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(Reservation(self, bytes)),
                Err(now) => current = now,
            }
        }
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }
}

/// Reserves `bytes` for a decode from the process's account.
pub fn reserve(bytes: u64, format: &'static str) -> Result<Reservation, FaceError> {
    IN_FLIGHT.reserve(bytes, format)
}

/// Memory held by decodes in flight now (for tests and metrics).
pub fn in_flight() -> u64 {
    IN_FLIGHT.held()
}

/// Bytes the RGB copy of a `w`×`h` image takes, which every decode ends with.
fn rgb(w: u64, h: u64) -> u64 {
    w * h * 3
}

fn corrupt(format: &str, what: &str) -> FaceError {
    FaceError::Image(format!(
        "{format}: {what}; the file is truncated or corrupt, send the image again"
    ))
}

/// JPEG: the frame header gives dimensions, components and their sampling; a progressive frame
/// keeps every coefficient (2 bytes each) until its last scan.
pub fn jpeg(bytes: &[u8]) -> Result<u64, FaceError> {
    let mut i = 2; // after SOI
    let mut frame: Option<(u64, u64, u64, bool)> = None;
    let mut scans = 0usize;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            i += 1; // entropy-coded data; markers inside it are FF00 or RSTn only
            continue;
        }
        let marker = bytes[i + 1];
        match marker {
            0xFF => {
                i += 1;
                continue;
            }
            0x00 | 0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            0xD9 => break,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if len < 2 {
            return Err(corrupt("JPEG", "a segment length is below 2"));
        }
        let seg = bytes
            .get(i + 4..(i + 2 + len).min(bytes.len()))
            .unwrap_or(&[]);
        match marker {
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if seg.len() < 6 {
                    return Err(corrupt("JPEG", "the frame header is cut short"));
                }
                let h = u64::from(u16::from_be_bytes([seg[1], seg[2]]));
                let w = u64::from(u16::from_be_bytes([seg[3], seg[4]]));
                let comps = u64::from(seg[5]);
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                frame.get_or_insert((w, h, comps.max(1), progressive));
            }
            0xDA => {
                scans += 1;
                if scans > MAX_JPEG_SCANS {
                    return Err(FaceError::Image(format!(
                        "JPEG: more than {MAX_JPEG_SCANS} scans; send a baseline JPEG from the camera"
                    )));
                }
            }
            _ => {}
        }
        i += 2 + len;
    }
    let Some((w, h, comps, progressive)) = frame else {
        return Err(corrupt("JPEG", "no frame header"));
    };
    crate::image::check_size(w as u32, h as u32)?;
    // Blocks are padded to 16×16 MCUs at most (2×2 sampling).
    let padded = w.div_ceil(16) * 16 * h.div_ceil(16) * 16;
    let coefficients = if progressive { padded * comps * 2 } else { 0 };
    Ok(coefficients + padded * comps + 2 * rgb(w, h))
}

/// PNG: IHDR gives dimensions, bit depth and colour type; the decoder holds the whole image at
/// its own sample size, then the RGB copy.
pub fn png(bytes: &[u8]) -> Result<u64, FaceError> {
    // signature (8), IHDR length (4), "IHDR" (4), width, height, depth, colour type.
    let ihdr = bytes
        .get(8..26)
        .filter(|h| &h[4..8] == b"IHDR")
        .ok_or_else(|| corrupt("PNG", "no IHDR header"))?;
    let w = u32::from_be_bytes(ihdr[8..12].try_into().expect("4 bytes"));
    let h = u32::from_be_bytes(ihdr[12..16].try_into().expect("4 bytes"));
    crate::image::check_size(w, h)?;
    let depth = u64::from(ihdr[16]).max(8) / 8;
    let channels: u64 = match ihdr[17] {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return Err(corrupt("PNG", "unknown colour type")),
    };
    let (w, h) = (u64::from(w), u64::from(h));
    // The decoded image (palette expanded to RGBA at worst), a row buffer, the RGB copy.
    let decoded = w * h * channels.max(if ihdr[17] == 3 { 4 } else { 1 }) * depth;
    Ok(decoded + 2 * rgb(w, h))
}

/// The coding parameters of one tile-component that drive the decoder's memory.
#[derive(Clone, Copy)]
struct Coding {
    levels: u32,
    /// Code-block width and height exponents.
    cb: (u32, u32),
    /// Precinct exponents at resolution 0 and above (the smallest seen).
    precinct_min: (u32, u32),
    layers: u64,
}

/// Per-record costs in the JPEG 2000 decoder (upper bounds, bytes).
const J2K_PER_TILE: u64 = 1024;
const J2K_PER_TILE_COMPONENT: u64 = 512;
const J2K_PER_RESOLUTION: u64 = 256;
const J2K_PER_PRECINCT: u64 = 768;
const J2K_PER_CODE_BLOCK: u64 = 200;
const J2K_PER_CODE_BLOCK_LAYER: u64 = 24;
/// Per sample: coefficients and the reconstructed plane as f32, plus scratch.
const J2K_PER_SAMPLE: u64 = 12;

/// JPEG 2000 (a JP2 file or a raw codestream): sized from SIZ, and the worst of every COD and
/// COC in the main header and in every tile-part header.
pub fn jpeg2000(bytes: &[u8]) -> Result<u64, FaceError> {
    let cs = codestream(bytes)?;
    let be16 = |i: usize| -> Result<u64, FaceError> {
        cs.get(i..i + 2)
            .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| corrupt("JPEG 2000", "a header is cut short"))
    };
    let be32 = |i: usize| -> Result<u64, FaceError> {
        cs.get(i..i + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            .ok_or_else(|| corrupt("JPEG 2000", "a header is cut short"))
    };
    if cs.get(0..4) != Some(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Err(corrupt(
            "JPEG 2000",
            "the codestream does not start with SOC, SIZ",
        ));
    }
    // SIZ: Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz {Ssiz XRsiz YRsiz}
    let lsiz = be16(4)? as usize;
    let (x, y, xo, yo) = (be32(8)?, be32(12)?, be32(16)?, be32(20)?);
    let (xt, yt, xto, yto) = (be32(24)?, be32(28)?, be32(32)?, be32(36)?);
    let comps = be16(40)?;
    if x <= xo || y <= yo || xt == 0 || yt == 0 || comps == 0 || xto > xo || yto > yo {
        return Err(corrupt("JPEG 2000", "the image or tile size is invalid"));
    }
    let (w, h) = (x - xo, y - yo);
    crate::image::check_size(
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    )?;
    if comps > 4 {
        return Err(FaceError::Image(format!(
            "JPEG 2000: {comps} components; a photo has 1 (grey) to 4 (colour and alpha)"
        )));
    }
    let tiles = (x - xto).div_ceil(xt) * (y - yto).div_ceil(yt);
    // COD is mandatory and sets these; each COD or COC can only make them worse.
    let mut worst = Coding {
        levels: 0,
        cb: (12, 12),
        precinct_min: (15, 15),
        layers: 1,
    };
    // Marker segments after SIZ: the main header up to the first SOT, then each tile-part's
    // header up to its SOD, jumping over its data by Psot.
    let mut i = 2 + 2 + lsiz;
    let mut saw_cod = false;
    let mut in_tile_header = false;
    let mut tile_part_end = 0usize;
    while i + 2 <= cs.len() {
        if cs[i] != 0xFF {
            return Err(corrupt("JPEG 2000", "a marker was expected"));
        }
        let marker = cs[i + 1];
        match marker {
            0xD9 => break, // EOC
            0x93 => {
                // SOD: the tile-part's data runs to its end (Psot 0: to EOC).
                if !in_tile_header {
                    return Err(corrupt("JPEG 2000", "SOD outside a tile-part"));
                }
                in_tile_header = false;
                if tile_part_end <= i {
                    break;
                }
                i = tile_part_end;
                continue;
            }
            _ => {}
        }
        let len = be16(i + 2)? as usize;
        if len < 2 {
            return Err(corrupt("JPEG 2000", "a segment length is below 2"));
        }
        let seg = cs
            .get(i + 4..i + 2 + len)
            .ok_or_else(|| corrupt("JPEG 2000", "a segment runs past the end"))?;
        match marker {
            0x90 => {
                // SOT: Isot Psot TPsot TNsot
                if seg.len() < 8 {
                    return Err(corrupt("JPEG 2000", "a tile-part header is cut short"));
                }
                let psot = u32::from_be_bytes([seg[2], seg[3], seg[4], seg[5]]) as usize;
                tile_part_end = if psot == 0 {
                    cs.len()
                } else {
                    i.saturating_add(psot)
                };
                in_tile_header = true;
            }
            0x52 => {
                // COD: Scod, progression, layers (2), MCT, then SPcod.
                saw_cod = true;
                let scod = *seg
                    .first()
                    .ok_or_else(|| corrupt("JPEG 2000", "COD is empty"))?;
                let layers = seg
                    .get(2..4)
                    .map(|b| u64::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or_else(|| corrupt("JPEG 2000", "COD is cut short"))?;
                worst.layers = worst.layers.max(layers.max(1));
                spcod(seg.get(5..).unwrap_or(&[]), scod & 1 != 0, &mut worst)?;
            }
            0x53 => {
                // COC: Ccoc (1 or 2 bytes), Scoc, SPcoc.
                let at = if comps < 257 { 1 } else { 2 };
                let scoc = *seg
                    .get(at)
                    .ok_or_else(|| corrupt("JPEG 2000", "COC is cut short"))?;
                spcod(seg.get(at + 1..).unwrap_or(&[]), scoc & 1 != 0, &mut worst)?;
            }
            _ => {}
        }
        i += 2 + len;
    }
    if !saw_cod {
        return Err(corrupt("JPEG 2000", "no COD marker"));
    }
    Ok(estimate(w, h, xt.min(w), yt.min(h), tiles, comps, worst))
}

/// Reads SPcod/SPcoc: levels, code-block exponents (offset by 2), style, transform, precincts.
fn spcod(sp: &[u8], has_precincts: bool, worst: &mut Coding) -> Result<(), FaceError> {
    if sp.len() < 5 {
        return Err(corrupt("JPEG 2000", "coding parameters are cut short"));
    }
    let levels = u32::from(sp[0]);
    if levels > 32 {
        return Err(corrupt("JPEG 2000", "more than 32 decomposition levels"));
    }
    worst.levels = worst.levels.max(levels);
    let (xcb, ycb) = (u32::from(sp[1] & 0x0F) + 2, u32::from(sp[2] & 0x0F) + 2);
    worst.cb = (worst.cb.0.min(xcb), worst.cb.1.min(ycb));
    if has_precincts {
        for &p in sp.get(5..).unwrap_or(&[]) {
            let (px, py) = (u32::from(p & 0x0F), u32::from(p >> 4));
            worst.precinct_min = (worst.precinct_min.0.min(px), worst.precinct_min.1.min(py));
        }
    }
    Ok(())
}

/// Upper bound of the decoder's memory for the worst coding parameters seen.
fn estimate(w: u64, h: u64, tw: u64, th: u64, tiles: u64, comps: u64, c: Coding) -> u64 {
    let mut per_tile_component = J2K_PER_TILE_COMPONENT;
    for r in 0..=c.levels {
        // Resolution r of a tile is the tile scaled by 2^-(levels - r), at least one sample.
        let shift = c.levels - r;
        let (rw, rh) = (
            tw.div_ceil(1 << shift.min(62)),
            th.div_ceil(1 << shift.min(62)),
        );
        let (ppx, ppy) = if r == 0 {
            c.precinct_min
        } else {
            (c.precinct_min.0.max(1), c.precinct_min.1.max(1))
        };
        let precincts = rw.div_ceil(1 << ppx) * rh.div_ceil(1 << ppy);
        // Code-blocks are clipped by the precinct (one level down for the high bands).
        let (cbx, cby) = if r == 0 {
            (c.cb.0.min(ppx), c.cb.1.min(ppy))
        } else {
            (c.cb.0.min(ppx - 1), c.cb.1.min(ppy - 1))
        };
        let (bands, bw, bh) = if r == 0 {
            (1, rw, rh)
        } else {
            (3, rw.div_ceil(2), rh.div_ceil(2))
        };
        let blocks = bands * bw.div_ceil(1 << cbx) * bh.div_ceil(1 << cby);
        per_tile_component = per_tile_component
            .saturating_add(J2K_PER_RESOLUTION)
            .saturating_add(precincts.saturating_mul(J2K_PER_PRECINCT))
            .saturating_add(blocks.saturating_mul(
                J2K_PER_CODE_BLOCK + c.layers.saturating_mul(J2K_PER_CODE_BLOCK_LAYER),
            ));
    }
    // Every tile has the structure; edge tiles are no larger than a full one.
    tiles
        .saturating_mul(J2K_PER_TILE.saturating_add(comps.saturating_mul(per_tile_component)))
        .saturating_add(w * h * comps * J2K_PER_SAMPLE)
        .saturating_add(2 * rgb(w, h))
}

/// The codestream of a JP2 file (its `jp2c` box), or the bytes themselves when they are one.
fn codestream(bytes: &[u8]) -> Result<&[u8], FaceError> {
    if bytes.starts_with(&[0xFF, 0x4F]) {
        return Ok(bytes);
    }
    let mut i = 0usize;
    while i + 8 <= bytes.len() {
        let len = u64::from(u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4")));
        let kind = &bytes[i + 4..i + 8];
        let (header, len) = match len {
            0 => (8, (bytes.len() - i) as u64),
            1 => {
                let xl = bytes
                    .get(i + 8..i + 16)
                    .map(|b| u64::from_be_bytes(b.try_into().expect("8")))
                    .ok_or_else(|| corrupt("JPEG 2000", "a box is cut short"))?;
                (16, xl)
            }
            n => (8, n),
        };
        if len < header as u64 {
            return Err(corrupt("JPEG 2000", "a box is shorter than its header"));
        }
        if kind == b"jp2c" {
            let end = usize::try_from(len).map_or(bytes.len(), |l| (i + l).min(bytes.len()));
            return Ok(&bytes[i + header..end]);
        }
        i = usize::try_from(len)
            .ok()
            .and_then(|l| i.checked_add(l))
            .ok_or_else(|| corrupt("JPEG 2000", "a box is longer than the file"))?;
    }
    Err(corrupt("JPEG 2000", "no codestream box (jp2c)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_add_up_and_are_given_back() {
        static ACCOUNT: Account = Account::new(4 * DECODE_BUDGET);
        assert!(matches!(
            ACCOUNT.reserve(DECODE_BUDGET + 1, "test"),
            Err(FaceError::ImageTooCostly { .. })
        ));
        let held: Vec<_> = (0..4)
            .map(|_| ACCOUNT.reserve(DECODE_BUDGET, "test").unwrap())
            .collect();
        assert_eq!(ACCOUNT.held(), 4 * DECODE_BUDGET);
        assert!(matches!(ACCOUNT.reserve(1, "test"), Err(FaceError::Busy)));
        drop(held);
        assert_eq!(ACCOUNT.held(), 0);
        assert!(ACCOUNT.reserve(DECODE_BUDGET, "test").is_ok());
    }
}
