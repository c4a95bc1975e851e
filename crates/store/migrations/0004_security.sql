-- Security round: readers enrolled by an operator, replay-proof reader requests, staff
-- passwords as argon2id, API tokens for machine clients, cards belonging to a municipality.

-- A reader asked for by a clinic is 'pending' until an operator approves it; 'suspended' and
-- 'revoked' readers are refused at once. Readers enrolled before this migration stay active.
ALTER TABLE readers ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE readers ADD COLUMN status_changed_at TEXT;
ALTER TABLE readers ADD COLUMN status_changed_by TEXT;

-- Request ids a reader has used within the signature window: a replayed request is refused,
-- across every server process on the same database.
CREATE TABLE reader_requests (
    reader_id       TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    seen_at         TEXT NOT NULL,
    PRIMARY KEY (reader_id, request_id)
);
CREATE INDEX reader_requests_seen ON reader_requests (seen_at);

-- argon2id PHC string (salt inside). NULL for staff stored before this migration: their first
-- sign-in is checked against the old SHA-256 in token_hash and upgraded. token_hash is no longer
-- a bearer token; new rows hold the hash of random bytes nobody knows.
ALTER TABLE staff ADD COLUMN password_hash TEXT;

-- API tokens of machine clients (terminal, kiosk): random, only their SHA-256 stored, scoped to
-- one staff member's role and institution, expiring, revocable.
CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    staff_id        TEXT NOT NULL REFERENCES staff (id),
    role            TEXT NOT NULL,
    institution_code TEXT NOT NULL,
    label           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);

-- The municipality that issued a card: only its clerks may change it. NULL for cards stored
-- before this migration (the demo municipality's, see kakunin_store::cards).
ALTER TABLE cards ADD COLUMN municipality_code TEXT;
