-- 公費負担医療 recipient certificates (受給者証) recorded for a person
-- (kakunin_core::public_expense).
CREATE TABLE recipient_certificates (
    id               BIGINT PRIMARY KEY,
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    program          TEXT NOT NULL,
    payer_number     TEXT NOT NULL,                -- 公費負担者番号
    recipient_number TEXT NOT NULL,                -- 公費受給者番号
    valid_from       TEXT NOT NULL,
    valid_to         TEXT NOT NULL,
    copay_limit      BIGINT                        -- yen per month, or NULL
);
CREATE INDEX recipient_certificates_person ON recipient_certificates (person_id);
