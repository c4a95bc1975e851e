//! Bounded in-memory state that an attacker can push on: sign-in throttling, the card photos
//! held for visual mode and the 照合番号B staff typed for a reader. Each map has a fixed size and
//! evicts its oldest entries; none is ever cleared whole (a global clear would let 100,000 junk
//! failures wipe every lockout).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failed sign-ins of one account before each further try must wait (doubling from 1 s).
pub const FREE_FAILURES: u32 = 5;
/// Longest wait between tries of one account.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins from one source address within [`SOURCE_WINDOW`] before it is refused.
pub const SOURCE_FAILURES: u32 = 20;
/// The window of the per-source limit.
pub const SOURCE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// How long a source that signed in to an account stays known for it.
pub const KNOWN_SOURCE_FOR: Duration = Duration::from_secs(30 * 24 * 3600);
/// Entries each sign-in map holds at most.
const MAX_ENTRIES: usize = 50_000;

/// Why a sign-in is refused before its password is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Throttled {
    /// This account failed too often: wait this long (unless signing in from a known source).
    Account(Duration),
    /// This source failed too often: wait this long.
    Source(Duration),
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Sign-in throttling: per-account backoff that a source the account signed in from before can
/// pass, and a per-source limit.
#[derive(Default)]
pub struct SignInThrottle {
    accounts: HashMap<String, Failures>,
    sources: HashMap<IpAddr, Failures>,
    /// (account, source) pairs that signed in successfully, and when.
    known: HashMap<(String, IpAddr), Instant>,
}

impl SignInThrottle {
    /// Whether a sign-in of `account` from `source` may be tried now.
    pub fn check(&self, account: &str, source: Option<IpAddr>) -> Result<(), Throttled> {
        if let Some(ip) = source {
            if let Some(f) = self.sources.get(&ip) {
                let age = f.last.elapsed();
                if f.count >= SOURCE_FAILURES && age < SOURCE_WINDOW {
                    return Err(Throttled::Source(SOURCE_WINDOW - age));
                }
            }
            if self
                .known
                .get(&(account.to_owned(), ip))
                .is_some_and(|at| at.elapsed() < KNOWN_SOURCE_FOR)
            {
                return Ok(());
            }
        }
        if let Some(f) = self.accounts.get(account) {
            let wait = backoff(f.count);
            let age = f.last.elapsed();
            if age < wait {
                return Err(Throttled::Account(wait - age));
            }
        }
        Ok(())
    }

    /// Records the outcome of a password check.
    pub fn record(&mut self, account: &str, source: Option<IpAddr>, ok: bool) {
        let now = Instant::now();
        if ok {
            self.accounts.remove(account);
            if let Some(ip) = source {
                bounded_insert(&mut self.known, (account.to_owned(), ip), now, |t| *t);
            }
            return;
        }
        let bump = |old: Option<Failures>, window: Duration| Failures {
            count: match old {
                Some(f) if f.last.elapsed() < window => f.count.saturating_add(1),
                _ => 1,
            },
            last: now,
        };
        let old = self.accounts.get(account).copied();
        bounded_insert(
            &mut self.accounts,
            account.to_owned(),
            bump(old, MAX_BACKOFF * 2),
            |f| f.last,
        );
        if let Some(ip) = source {
            let old = self.sources.get(&ip).copied();
            bounded_insert(&mut self.sources, ip, bump(old, SOURCE_WINDOW), |f| f.last);
        }
    }
}

/// The wait before the next try after `failures` consecutive failures.
fn backoff(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES).min(20);
    Duration::from_secs(1u64 << exp).min(MAX_BACKOFF)
}

/// Inserts into a map of at most [`MAX_ENTRIES`], evicting the entry with the oldest time.
fn bounded_insert<K: std::hash::Hash + Eq + Clone, V>(
    map: &mut HashMap<K, V>,
    key: K,
    value: V,
    time: impl Fn(&V) -> Instant,
) {
    if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
        if let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| time(v))
            .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
    }
    map.insert(key, value);
}

/// How long a card photo handed over for visual mode is kept.
pub const PHOTO_TTL: Duration = Duration::from_secs(15 * 60);
/// Bytes of photos one reader may have held at once (a reception desk rarely has more than a
/// few patients in visual mode; a card photo is a few kilobytes, at most 512 KiB).
pub const PHOTO_BYTES_PER_READER: usize = 4 << 20;
/// Bytes of photos held in all.
pub const PHOTO_BYTES_TOTAL: usize = 64 << 20;
/// Visits whose photo was evicted, remembered so staff are told why it is gone.
const EVICTED_REMEMBERED: usize = 10_000;

struct HeldPhoto {
    reader: String,
    bytes: Vec<u8>,
    at: Instant,
}

/// What staff get when they ask for a visit's photo.
pub enum PhotoLookup {
    /// The photo.
    Held(Vec<u8>),
    /// Dropped to stay within the memory caps: staff compare with the card itself.
    Evicted,
    /// Never handed over, expired, or already decided.
    Absent,
}

/// Card photos for visual mode, capped per reader and in total; the oldest go first.
#[derive(Default)]
pub struct PhotoStore {
    photos: HashMap<String, HeldPhoto>,
    evicted: std::collections::VecDeque<String>,
}

impl PhotoStore {
    /// Holds `bytes` for `visit`, handed over by `reader`, evicting the oldest photos (that
    /// reader's first) until both caps hold.
    pub fn hold(&mut self, visit: &str, reader: &str, bytes: Vec<u8>) {
        self.photos.retain(|_, p| p.at.elapsed() < PHOTO_TTL);
        self.photos.remove(visit);
        let size = bytes.len();
        while self.bytes_of(Some(reader)) + size > PHOTO_BYTES_PER_READER {
            if !self.evict_oldest(Some(reader)) {
                break;
            }
        }
        while self.bytes_of(None) + size > PHOTO_BYTES_TOTAL {
            if !self.evict_oldest(None) {
                break;
            }
        }
        self.photos.insert(
            visit.to_owned(),
            HeldPhoto {
                reader: reader.to_owned(),
                bytes,
                at: Instant::now(),
            },
        );
    }

    /// The photo of `visit`, or why there is none.
    pub fn get(&self, visit: &str) -> PhotoLookup {
        match self.photos.get(visit) {
            Some(p) if p.at.elapsed() < PHOTO_TTL => PhotoLookup::Held(p.bytes.clone()),
            _ if self.evicted.iter().any(|v| v == visit) => PhotoLookup::Evicted,
            _ => PhotoLookup::Absent,
        }
    }

    /// Drops the photo of `visit` (staff decided).
    pub fn drop_photo(&mut self, visit: &str) {
        self.photos.remove(visit);
    }

    /// Bytes held, by `reader` or in all.
    pub fn bytes_of(&self, reader: Option<&str>) -> usize {
        self.photos
            .values()
            .filter(|p| reader.is_none_or(|r| p.reader == r))
            .map(|p| p.bytes.len())
            .sum()
    }

    fn evict_oldest(&mut self, reader: Option<&str>) -> bool {
        let Some(visit) = self
            .photos
            .iter()
            .filter(|(_, p)| reader.is_none_or(|r| p.reader == r))
            .min_by_key(|(_, p)| p.at)
            .map(|(v, _)| v.clone())
        else {
            return false;
        };
        self.photos.remove(&visit);
        tracing::warn!(visit = %visit, "card photo evicted to stay within the photo memory cap");
        if self.evicted.len() >= EVICTED_REMEMBERED {
            self.evicted.pop_front();
        }
        self.evicted.push_back(visit);
        true
    }
}

/// How long a 照合番号B typed by staff waits for the reader to take it (the kiosk polls every
/// second or two while in visual mode); after that it is forgotten.
pub const TYPED_NUMBER_TTL: Duration = Duration::from_secs(2 * 60);
/// How long the last card-face offer of a visit stays known for the staff who typed it.
const TYPED_STATUS_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
struct TypedEntry {
    /// The digits, until the reader takes them: never written anywhere (they open the card's
    /// face data).
    number: Option<(String, Instant)>,
    /// The reader's last report of an offer in this visit.
    last: Option<kakunin_api::visits::CardFaceTry>,
    offers: u32,
    at: Instant,
}

/// 照合番号B typed by staff for the reader holding the card, and what came of each offer:
/// memory only, bounded, oldest first out.
#[derive(Default)]
pub struct TypedNumbers {
    entries: HashMap<String, TypedEntry>,
}

impl TypedNumbers {
    /// Holds `number` for the reader of `visit` (replacing one not taken yet).
    pub fn hand(&mut self, visit: &str, number: String) {
        self.entries
            .retain(|_, e| e.at.elapsed() < TYPED_STATUS_TTL);
        let (last, offers) = self
            .entries
            .get(visit)
            .map_or((None, 0), |e| (e.last.clone(), e.offers));
        let now = Instant::now();
        let entry = TypedEntry {
            number: Some((number, now)),
            last,
            offers,
            at: now,
        };
        bounded_insert(&mut self.entries, visit.to_owned(), entry, |e| e.at);
    }

    /// Takes the number typed for `visit`, if it is still fresh (given once).
    pub fn take(&mut self, visit: &str) -> Option<String> {
        let e = self.entries.get_mut(visit)?;
        let (number, at) = e.number.take()?;
        (at.elapsed() < TYPED_NUMBER_TTL).then_some(number)
    }

    /// Records the reader's report of an offer in `visit` (shown to the staff who typed).
    pub fn record(&mut self, visit: &str, last: kakunin_api::visits::CardFaceTry) {
        let now = Instant::now();
        match self.entries.get_mut(visit) {
            Some(e) => {
                e.last = Some(last);
                e.offers += 1;
                e.at = now;
            }
            None => bounded_insert(
                &mut self.entries,
                visit.to_owned(),
                TypedEntry {
                    number: None,
                    last: Some(last),
                    offers: 1,
                    at: now,
                },
                |e| e.at,
            ),
        }
    }

    /// Whether a number waits for the reader of `visit`, and the last offer's outcome.
    pub fn status(&self, visit: &str) -> kakunin_api::visits::NumberBStatus {
        let e = self
            .entries
            .get(visit)
            .filter(|e| e.at.elapsed() < TYPED_STATUS_TTL);
        kakunin_api::visits::NumberBStatus {
            pending: e
                .and_then(|e| e.number.as_ref())
                .is_some_and(|(_, at)| at.elapsed() < TYPED_NUMBER_TTL),
            last: e.and_then(|e| e.last.clone()),
            offers: e.map_or(0, |e| e.offers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn an_account_backs_off_after_five_failures_but_a_known_source_passes() {
        let mut t = SignInThrottle::default();
        t.record("staff-a", ip(1), true); // the desk PC signed in before
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.check("staff-a", ip(9)), Ok(()));
            t.record("staff-a", ip(9), false);
        }
        assert!(matches!(
            t.check("staff-a", ip(9)),
            Err(Throttled::Account(_))
        ));
        assert!(matches!(
            t.check("staff-a", ip(10)),
            Err(Throttled::Account(_))
        ));
        // The owner at the desk is not locked out by the attacker.
        assert_eq!(t.check("staff-a", ip(1)), Ok(()));
        // Other accounts are untouched.
        assert_eq!(t.check("staff-b", ip(9)), Ok(()));
    }

    #[test]
    fn a_source_is_refused_after_its_failures_on_any_accounts() {
        let mut t = SignInThrottle::default();
        for n in 0..SOURCE_FAILURES {
            t.record(&format!("unknown-{n}"), ip(7), false);
        }
        assert!(matches!(
            t.check("anyone", ip(7)),
            Err(Throttled::Source(_))
        ));
        assert_eq!(t.check("anyone", ip(8)), Ok(()));
    }

    #[test]
    fn floods_of_unknown_ids_never_clear_a_lockout() {
        let mut t = SignInThrottle::default();
        for _ in 0..FREE_FAILURES + 2 {
            t.record("victim", None, false);
        }
        assert!(t.check("victim", None).is_err());
        // 100,000 failures used to clear the whole map; now the map is bounded and evicts
        // one oldest entry at a time, only when full.
        for n in 0..MAX_ENTRIES - 10 {
            t.record(&format!("junk-{n}"), None, false);
        }
        assert!(t.check("victim", None).is_err());
        for n in 0..20 {
            t.record(&format!("more-{n}"), None, false);
        }
        assert!(t.accounts.len() <= MAX_ENTRIES);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(4), Duration::ZERO);
        assert_eq!(backoff(5), Duration::from_secs(1));
        assert_eq!(backoff(7), Duration::from_secs(4));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }

    #[test]
    fn photos_are_capped_per_reader_and_the_oldest_evicted() {
        let mut p = PhotoStore::default();
        let photo = vec![0u8; 512 * 1024];
        for n in 0..200 {
            p.hold(&format!("v{n}"), "r1", photo.clone());
        }
        assert!(p.bytes_of(Some("r1")) <= PHOTO_BYTES_PER_READER);
        assert!(matches!(p.get("v0"), PhotoLookup::Evicted));
        assert!(matches!(p.get("v199"), PhotoLookup::Held(_)));
        assert!(matches!(p.get("never"), PhotoLookup::Absent));
        // Another reader's photos are not pushed out by this one.
        p.hold("other", "r2", photo.clone());
        for n in 200..220 {
            p.hold(&format!("v{n}"), "r1", photo.clone());
        }
        assert!(matches!(p.get("other"), PhotoLookup::Held(_)));
    }

    #[test]
    fn photos_are_capped_in_total() {
        let mut p = PhotoStore::default();
        let photo = vec![0u8; 512 * 1024];
        for r in 0..40 {
            for n in 0..8 {
                p.hold(&format!("v{r}-{n}"), &format!("r{r}"), photo.clone());
            }
        }
        assert!(p.bytes_of(None) <= PHOTO_BYTES_TOTAL);
    }

    #[test]
    fn a_typed_number_is_given_once_and_its_outcome_counted() {
        let mut t = TypedNumbers::default();
        assert!(!t.status("v1").pending);
        t.hand("v1", "55021720341234".into());
        assert!(t.status("v1").pending);
        assert_eq!(t.take("v1").as_deref(), Some("55021720341234"));
        assert_eq!(t.take("v1"), None, "given once");
        assert!(!t.status("v1").pending);
        let report = kakunin_api::visits::CardFaceTry {
            source: kakunin_api::visits::NumberBSource::Staff,
            outcome: kakunin_api::visits::NumberBOutcome::Wrong,
            tries_left: Some(10),
        };
        t.record("v1", report.clone());
        let s = t.status("v1");
        assert_eq!((s.offers, s.last), (1, Some(report)));
        assert_eq!(t.status("v2").offers, 0, "another visit knows nothing");
    }
}
