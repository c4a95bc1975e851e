-- kakunin schema, one file for SQLite and PostgreSQL.
-- Portable on purpose: integers are BIGINT, flags are BIGINT 0/1, times are TEXT in UTC
-- RFC 3339 with microseconds (they sort as text), dates are TEXT yyyy-mm-dd, ids are TEXT or
-- application-assigned BIGINT (no autoincrement dialects).

CREATE TABLE insurers (
    number          TEXT PRIMARY KEY,          -- 保険者番号, check digit validated by the application
    name            TEXT NOT NULL,
    insurance_type  TEXT NOT NULL              -- 協会けんぽ, 組合健保, 国保, 後期高齢者 ...
);

CREATE TABLE persons (
    id              BIGINT PRIMARY KEY,
    family_name     TEXT NOT NULL,
    given_name      TEXT NOT NULL,
    family_kana     TEXT NOT NULL,
    given_kana      TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    sex             BIGINT NOT NULL,           -- 1 male, 2 female
    address         TEXT NOT NULL,
    post_number     TEXT NOT NULL
);
CREATE INDEX persons_name_birth ON persons (family_name, given_name, birth_date);

-- Qualification history: one row per period under one insurer; never updated but to close it.
CREATE TABLE qualifications (
    id              BIGINT PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES persons (id),
    insurer_number  TEXT NOT NULL REFERENCES insurers (number),
    symbol          TEXT NOT NULL,
    number          TEXT NOT NULL,
    branch          TEXT NOT NULL,
    personal_family BIGINT NOT NULL,           -- 1 本人, 2 家族
    copay_percent   BIGINT NOT NULL,           -- 10, 20, 30
    valid_from      TEXT NOT NULL,
    valid_to        TEXT,                      -- NULL: still valid
    limit_category  TEXT                       -- A01..A06, B01..B10, or NULL
);
CREATE INDEX qualifications_person ON qualifications (person_id, valid_from);
CREATE INDEX qualifications_numbers ON qualifications (insurer_number, number, branch, symbol);

CREATE TABLE cards (
    id              TEXT PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES persons (id),
    kind            TEXT NOT NULL,             -- standard | face_auth
    cert_serial     TEXT NOT NULL,             -- user-auth certificate serial (hex), unique (index below)
    registered      BIGINT NOT NULL,           -- 健康保険証利用登録
    pin_salt        TEXT,
    pin_hash        TEXT,
    pin_failures    BIGINT NOT NULL,
    expires_on      TEXT NOT NULL,
    security_code   TEXT NOT NULL,             -- for 照合番号B of the demo cards
    version         BIGINT NOT NULL,           -- optimistic concurrency (PIN counter, switches)
    updated_at      TEXT NOT NULL
);
CREATE INDEX cards_person ON cards (person_id);
CREATE UNIQUE INDEX cards_cert_serial ON cards (cert_serial);

CREATE TABLE card_memo (
    card_id         TEXT NOT NULL REFERENCES cards (id),
    seq             BIGINT NOT NULL,
    text            TEXT NOT NULL,
    entered_on      TEXT NOT NULL,
    municipality    TEXT NOT NULL,
    struck_on       TEXT,                      -- struck through, never deleted
    PRIMARY KEY (card_id, seq)
);

-- Append-only.
CREATE TABLE card_history (
    card_id         TEXT NOT NULL REFERENCES cards (id),
    seq             BIGINT NOT NULL,
    at              TEXT NOT NULL,
    place           TEXT NOT NULL,
    staff           TEXT,
    event           TEXT NOT NULL,             -- JSON of kakunin_core::card::CardEvent
    PRIMARY KEY (card_id, seq)
);

CREATE TABLE revoked_certificates (
    serial          TEXT PRIMARY KEY,
    revoked_at      TEXT NOT NULL,
    reason          TEXT NOT NULL
);

CREATE TABLE medical_information (
    id              BIGINT PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES persons (id),
    category        TEXT NOT NULL,             -- medication | checkup | clinical
    recorded_on     TEXT NOT NULL,
    content         TEXT NOT NULL              -- JSON
);
CREATE INDEX medical_information_person ON medical_information (person_id, category);

CREATE TABLE institutions (
    code            TEXT PRIMARY KEY,          -- 医療機関コード (10 digits) or municipality code
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL              -- clinic | pharmacy | municipality | operator
);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,             -- reception | pharmacist | municipal_clerk | admin
    token_hash      TEXT NOT NULL UNIQUE       -- SHA-256 of the bearer token
);

CREATE TABLE readers (
    id              TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    public_key      TEXT NOT NULL,             -- Ed25519, base64
    registered_at   TEXT NOT NULL,
    registered_by   TEXT NOT NULL
);

CREATE TABLE visits (
    id              TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    reader_id       TEXT REFERENCES readers (id),
    card_id         TEXT REFERENCES cards (id),
    person_id       BIGINT REFERENCES persons (id),
    state           TEXT NOT NULL,
    visit           TEXT NOT NULL,             -- JSON of kakunin_core::visit::Visit
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX visits_institution ON visits (institution_code, started_at);

-- Single-use server nonces (attestations) and challenges (PIN path).
CREATE TABLE nonces (
    nonce           TEXT PRIMARY KEY,
    reader_id       TEXT NOT NULL REFERENCES readers (id),
    visit_id        TEXT NOT NULL REFERENCES visits (id),
    issued_at       TEXT NOT NULL,
    used_at         TEXT
);

CREATE TABLE consents (
    id              TEXT PRIMARY KEY,
    visit_id        TEXT NOT NULL REFERENCES visits (id),
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    person_id       BIGINT NOT NULL REFERENCES persons (id),
    medication      BIGINT NOT NULL,
    checkup         BIGINT NOT NULL,
    clinical        BIGINT NOT NULL,
    limit_amount    BIGINT NOT NULL,
    assisted        BIGINT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX consents_visit ON consents (visit_id);

CREATE TABLE declarations (
    id              TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    visit_id        TEXT REFERENCES visits (id),
    form            TEXT NOT NULL,             -- JSON of kakunin_core::declaration::SelfDeclaration
    missing         TEXT NOT NULL,             -- comma-separated field names
    status          TEXT NOT NULL,             -- pending | confirmed | mismatch | not_found
    matched_person_id BIGINT,
    created_at      TEXT NOT NULL,
    rechecked_at    TEXT
);
CREATE INDEX declarations_status ON declarations (status);

-- Append-only, hash-chained (kakunin_core::audit).
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    institution     TEXT,
    action          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
