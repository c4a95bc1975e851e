//! The card-face applet's EF 0002 (券面事項) as real cards hold it (facts from AokiApp/mynacard's
//! schema, read for facts only): one BER-TLV structure, private class — constructed `FF 20`
//! holding `DF 21` (offsets), `DF 22` birth date (yyyymmdd), `DF 23` sex ("1"/"2"), `DF 24` the
//! issuer's public key, `DF 25` the name as a PNG image, `DF 26` the address as a PNG image,
//! `DF 27` the photo (greyscale JPEG 2000 on real cards), `DF 28` the issuer's signature,
//! `DF 29` the expiry (yyyymmdd), `DF 2A` the security code as a PNG image — followed by `FF`
//! padding to the file's size. The virtual card serves this layout and the reader parses it, so
//! the code that reads a demo card is the code that reads a real one. The file is hostile input:
//! every length is checked against what is there.

use crate::CardError;

/// What the card-face applet holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFace {
    /// The holder's name, as a PNG image.
    pub name_image: Vec<u8>,
    /// The holder's address, as a PNG image.
    pub address_image: Vec<u8>,
    /// yyyymmdd.
    pub birth_date: String,
    /// 1 male, 2 female.
    pub sex: u8,
    /// yyyymmdd.
    pub expiry: String,
    /// The face photo, greyscale JPEG 2000 on real cards.
    pub photo: Vec<u8>,
    /// The security code, as a PNG image.
    pub security_code_image: Vec<u8>,
    /// The issuer's public key (as the card holds it).
    pub public_key: Vec<u8>,
    /// The issuer's signature over the entries.
    pub signature: Vec<u8>,
}

/// The entries' tags (second byte after `DF`).
mod tag {
    pub const OFFSETS: u8 = 0x21;
    pub const BIRTH: u8 = 0x22;
    pub const SEX: u8 = 0x23;
    pub const PUBLIC_KEY: u8 = 0x24;
    pub const NAME: u8 = 0x25;
    pub const ADDRESS: u8 = 0x26;
    pub const PHOTO: u8 = 0x27;
    pub const SIGNATURE: u8 = 0x28;
    pub const EXPIRY: u8 = 0x29;
    pub const CODE: u8 = 0x2A;
}

/// A BER length.
fn put_len(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend([0x81, n as u8]),
        0x100..=0xFFFF => out.extend([0x82, (n >> 8) as u8, n as u8]),
        _ => out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
}

/// Reads a BER length at the start of `b`: (length, bytes it took).
fn get_len(b: &[u8]) -> Result<(usize, usize), CardError> {
    let bad = || CardError::MalformedResponse("card face: bad TLV length".into());
    let first = *b.first().ok_or_else(bad)?;
    if first < 0x80 {
        return Ok((first as usize, 1));
    }
    let n = (first & 0x7F) as usize;
    if !(1..=3).contains(&n) || b.len() < 1 + n {
        return Err(bad());
    }
    Ok((
        b[1..=n].iter().fold(0usize, |a, &x| a << 8 | x as usize),
        1 + n,
    ))
}

impl CardFace {
    /// EF 0002's bytes: the structure, padded with `FF` to a multiple of 256 bytes.
    pub fn to_ef(&self) -> Vec<u8> {
        let entries: [(u8, &[u8]); 9] = [
            (tag::BIRTH, self.birth_date.as_bytes()),
            (tag::SEX, if self.sex == 2 { b"2" } else { b"1" }),
            (tag::PUBLIC_KEY, &self.public_key),
            (tag::NAME, &self.name_image),
            (tag::ADDRESS, &self.address_image),
            (tag::PHOTO, &self.photo),
            (tag::SIGNATURE, &self.signature),
            (tag::EXPIRY, self.expiry.as_bytes()),
            (tag::CODE, &self.security_code_image),
        ];
        let mut body = vec![];
        let mut offsets = vec![];
        for (t, v) in entries {
            offsets.extend((body.len() as u16).to_be_bytes());
            body.extend([0xDF, t]);
            put_len(&mut body, v.len());
            body.extend_from_slice(v);
        }
        // The offsets entry comes first; the offsets count from the end of it.
        let mut inner = vec![0xDF, tag::OFFSETS];
        put_len(&mut inner, offsets.len());
        inner.extend(offsets);
        inner.extend(body);
        let mut out = vec![0xFF, 0x20];
        put_len(&mut out, inner.len());
        out.extend(inner);
        let padded = out.len().div_ceil(256) * 256;
        out.resize(padded, 0xFF);
        out
    }

    /// Parses EF 0002 (trailing `FF` padding allowed; unknown entries skipped).
    pub fn from_ef(b: &[u8]) -> Result<CardFace, CardError> {
        let bad = |m: &str| CardError::MalformedResponse(format!("card face: {m}"));
        if b.len() < 3 || b[0] != 0xFF || b[1] != 0x20 {
            return Err(bad("not the card-face entries (no FF20)"));
        }
        let (len, took) = get_len(&b[2..])?;
        let mut rest = b
            .get(2 + took..2 + took + len)
            .ok_or_else(|| bad("entries run past the end of the file"))?;
        let mut f = CardFace::default();
        let text =
            |v: &[u8]| String::from_utf8(v.to_vec()).map_err(|_| bad("a text entry is not text"));
        while !rest.is_empty() {
            if rest.len() < 3 || rest[0] != 0xDF {
                return Err(bad("an entry is not a DFxx tag"));
            }
            let t = rest[1];
            let (len, took) = get_len(&rest[2..])?;
            let v = rest
                .get(2 + took..2 + took + len)
                .ok_or_else(|| bad("an entry runs past the end"))?;
            match t {
                tag::BIRTH => f.birth_date = text(v)?,
                tag::SEX => f.sex = if v == b"2" { 2 } else { 1 },
                tag::PUBLIC_KEY => f.public_key = v.to_vec(),
                tag::NAME => f.name_image = v.to_vec(),
                tag::ADDRESS => f.address_image = v.to_vec(),
                tag::PHOTO => f.photo = v.to_vec(),
                tag::SIGNATURE => f.signature = v.to_vec(),
                tag::EXPIRY => f.expiry = text(v)?,
                tag::CODE => f.security_code_image = v.to_vec(),
                _ => {}
            }
            rest = &rest[2 + took + len..];
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face() -> CardFace {
        CardFace {
            name_image: b"\x89PNG name".to_vec(),
            address_image: vec![7; 300],
            birth_date: "19800217".into(),
            sex: 2,
            expiry: "20340217".into(),
            photo: vec![0xAB; 70_000],
            security_code_image: b"\x89PNG code".to_vec(),
            public_key: vec![1, 2, 3],
            signature: vec![9; 256],
        }
    }

    #[test]
    fn the_entries_round_trip_in_the_real_layout() {
        let ef = face().to_ef();
        assert_eq!(&ef[..2], &[0xFF, 0x20]);
        assert_eq!(ef.len() % 256, 0, "padded");
        assert_eq!(*ef.last().unwrap(), 0xFF);
        assert_eq!(CardFace::from_ef(&ef).unwrap(), face());
        // The birth date is the DF22 entry after the offsets.
        let at = ef.windows(2).position(|w| w == [0xDF, 0x22]).unwrap();
        assert_eq!(&ef[at + 3..at + 11], b"19800217");
    }

    #[test]
    fn a_hostile_file_is_refused_not_read_past_its_end() {
        let ef = face().to_ef();
        for bad in [
            &ef[..1],
            &ef[..40],
            &[0xFF, 0x20, 0x84, 1, 2, 3, 4][..],
            &[0x30, 0x03, 1, 2, 3][..],
        ] {
            assert!(
                CardFace::from_ef(bad).is_err(),
                "{:?}",
                &bad[..bad.len().min(8)]
            );
        }
        let mut lying = ef.clone();
        let at = lying.windows(2).position(|w| w == [0xDF, 0x27]).unwrap();
        lying[at + 2] = 0x83; // the photo claims 16 MiB
        lying[at + 3] = 0xFF;
        assert!(CardFace::from_ef(&lying).is_err());
    }
}
