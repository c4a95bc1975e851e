//! Cards: the current state row, the memo field (追記欄) and the append-only history.
//! Updates are optimistic: a card changed by someone else in between is refused with
//! [`StoreError::CardChanged`], and the caller reloads and retries.

use crate::{get, parse_date, parse_ts, ts, Entity, Result, Store, StoreError};
use chrono::NaiveDate;
use kakunin_core::card::{Card, CardHistoryEntry, CardKind, MemoEntry, PinState};

/// A card with what the service keeps beside the domain state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRecord {
    /// The domain's card.
    pub card: Card,
    /// Its holder.
    pub person_id: i64,
    /// User-auth certificate serial, hex.
    pub cert_serial: String,
    /// When the card expires.
    pub expires_on: NaiveDate,
    /// Demo cards' 4-digit security code (for 照合番号B).
    pub security_code: String,
    /// Row version for optimistic updates.
    pub version: i64,
    /// The municipality that issued the card; only its clerks may change it. `None` for cards
    /// stored before municipalities were recorded: no clerk may change those until an operator
    /// assigns them.
    pub municipality_code: Option<String>,
}

const CARD_SELECT: &str = "SELECT id, person_id, kind, cert_serial, registered, pin_salt, pin_hash, pin_failures, expires_on, security_code, version, municipality_code FROM cards";

impl Store {
    /// A card by id.
    pub async fn card(&self, id: &str) -> Result<CardRecord> {
        self.card_where("id", id)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::Card(id.to_owned())))
    }

    /// The cards of `person_id` whose certificate is not revoked (one at most, once re-issue
    /// revokes the old card).
    pub async fn valid_cards_of_person(&self, person_id: i64) -> Result<Vec<CardRecord>> {
        let ids = sqlx::query(
            "SELECT c.id FROM cards c WHERE c.person_id = $1 AND NOT EXISTS (SELECT 1 FROM revoked_certificates r WHERE r.serial = c.cert_serial) ORDER BY c.id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = vec![];
        for row in ids {
            out.push(self.card(&get::<String>(&row, "id")?).await?);
        }
        Ok(out)
    }

    /// A card by its user-auth certificate serial (hex).
    pub async fn card_by_serial(&self, serial: &str) -> Result<Option<CardRecord>> {
        self.card_where("cert_serial", serial).await
    }

    async fn card_where(&self, column: &'static str, value: &str) -> Result<Option<CardRecord>> {
        let sql = format!("{CARD_SELECT} WHERE {column} = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let id: String = get(&row, "id")?;
        let kind = CardKind::parse(&get::<String>(&row, "kind")?)?;
        let salt: Option<String> = get(&row, "pin_salt")?;
        let hash: Option<String> = get(&row, "pin_hash")?;
        let failures: i64 = get(&row, "pin_failures")?;
        let pin = match (salt, hash) {
            (Some(salt), Some(hash)) => Some(PinState {
                salt,
                hash,
                failures: failures.clamp(0, 255) as u8,
            }),
            _ => None,
        };
        let memo_rows = sqlx::query("SELECT text, entered_on, municipality, struck_on FROM card_memo WHERE card_id = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(&self.pool)
            .await?;
        let memo = memo_rows
            .iter()
            .map(|m| {
                let struck: Option<String> = get(m, "struck_on")?;
                Ok(MemoEntry {
                    text: get(m, "text")?,
                    entered_on: parse_date(&get::<String>(m, "entered_on")?)?,
                    municipality: get(m, "municipality")?,
                    struck_on: struck.as_deref().map(parse_date).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let history_rows = sqlx::query(
            "SELECT at, place, staff, event FROM card_history WHERE card_id = $1 ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        let history = history_rows
            .iter()
            .map(|h| {
                let event: String = get(h, "event")?;
                Ok(CardHistoryEntry {
                    at: parse_ts(&get::<String>(h, "at")?)?,
                    place: get(h, "place")?,
                    staff: get(h, "staff")?,
                    event: serde_json::from_str(&event)
                        .map_err(|e| StoreError::Corrupt(format!("card event: {e}")))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let registered: i64 = get(&row, "registered")?;
        Ok(Some(CardRecord {
            card: Card {
                id,
                kind,
                pin,
                registered: registered != 0,
                memo,
                history,
            },
            person_id: get(&row, "person_id")?,
            cert_serial: get(&row, "cert_serial")?,
            expires_on: parse_date(&get::<String>(&row, "expires_on")?)?,
            security_code: get(&row, "security_code")?,
            municipality_code: get(&row, "municipality_code")?,
            version: get(&row, "version")?,
        }))
    }
}

fn pin_columns(pin: &Option<PinState>) -> (Option<String>, Option<String>, i64) {
    match pin {
        Some(p) => (
            Some(p.salt.clone()),
            Some(p.hash.clone()),
            i64::from(p.failures),
        ),
        None => (None, None, 0),
    }
}

async fn write_children(
    tx: &mut sqlx::AnyConnection,
    card: &Card,
    memo_from: usize,
    history_from: usize,
) -> Result<()> {
    for (seq, m) in card.memo.iter().enumerate().skip(memo_from) {
        sqlx::query("INSERT INTO card_memo (card_id, seq, text, entered_on, municipality, struck_on) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&card.id)
            .bind(seq as i64)
            .bind(&m.text)
            .bind(m.entered_on.to_string())
            .bind(&m.municipality)
            .bind(m.struck_on.map(|d| d.to_string()))
            .execute(&mut *tx)
            .await?;
    }
    for (seq, h) in card.history.iter().enumerate().skip(history_from) {
        sqlx::query("INSERT INTO card_history (card_id, seq, at, place, staff, event) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&card.id)
            .bind(seq as i64)
            .bind(ts(h.at))
            .bind(&h.place)
            .bind(&h.staff)
            .bind(serde_json::to_string(&h.event).expect("card event serialises"))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

impl crate::Tx {
    /// Stores a newly issued card with its memo and history.
    pub async fn insert_card(&mut self, r: &CardRecord) -> Result<()> {
        let tx = self.conn();
        let (salt, hash, failures) = pin_columns(&r.card.pin);
        sqlx::query(
            "INSERT INTO cards (id, person_id, kind, cert_serial, registered, pin_salt, pin_hash, pin_failures, expires_on, security_code, version, updated_at, municipality_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12)",
        )
        .bind(&r.card.id)
        .bind(r.person_id)
        .bind(r.card.kind.as_str())
        .bind(&r.cert_serial)
        .bind(r.card.registered as i64)
        .bind(salt)
        .bind(hash)
        .bind(failures)
        .bind(r.expires_on.to_string())
        .bind(&r.security_code)
        .bind(ts(crate::now()))
        .bind(&r.municipality_code)
        .execute(&mut *tx)
        .await?;
        write_children(tx, &r.card, 0, 0).await?;
        Ok(())
    }

    /// Writes back a card loaded with [`Store::card`] and changed by the domain. New memo entries
    /// and history lines are appended; existing memo entries only gain their strike date.
    /// Returns [`StoreError::CardChanged`] if the card changed since it was loaded.
    pub async fn save_card(&mut self, before: &CardRecord, after: &Card) -> Result<()> {
        let tx = self.conn();
        let (salt, hash, failures) = pin_columns(&after.pin);
        let done = sqlx::query(
            "UPDATE cards SET kind = $1, registered = $2, pin_salt = $3, pin_hash = $4, pin_failures = $5, version = version + 1, updated_at = $6 \
             WHERE id = $7 AND version = $8",
        )
        .bind(after.kind.as_str())
        .bind(after.registered as i64)
        .bind(salt)
        .bind(hash)
        .bind(failures)
        .bind(ts(crate::now()))
        .bind(&after.id)
        .bind(before.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::CardChanged(after.id.clone()));
        }
        for (seq, (old, new)) in before.card.memo.iter().zip(&after.memo).enumerate() {
            if old.struck_on != new.struck_on {
                sqlx::query("UPDATE card_memo SET struck_on = $1 WHERE card_id = $2 AND seq = $3")
                    .bind(new.struck_on.map(|d| d.to_string()))
                    .bind(&after.id)
                    .bind(seq as i64)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        write_children(tx, after, before.card.memo.len(), before.card.history.len()).await
    }
}
