-- Sign-in sessions of the staff screens. A staff member signs in with their id and credential
-- and gets a short-lived session token; only its SHA-256 is stored.
CREATE TABLE staff_sessions (
    token_hash      TEXT PRIMARY KEY,
    staff_id        TEXT NOT NULL REFERENCES staff (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);
