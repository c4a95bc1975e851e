-- 照会番号: each institution's own number for a patient (kakunin_core::reference). One row per
-- institution and patient; a number names one patient per institution.
CREATE TABLE reference_numbers (
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    reference_number TEXT NOT NULL,
    registered_at    TEXT NOT NULL,
    PRIMARY KEY (institution_code, person_id)
);
CREATE UNIQUE INDEX reference_numbers_number ON reference_numbers (institution_code, reference_number);

-- Batches sent through the terminal's bulk kinds: received at once under a reception number
-- (受付番号), their result (JSON) fetched by it later.
CREATE TABLE batches (
    reception_number TEXT PRIMARY KEY,
    institution_code TEXT NOT NULL REFERENCES institutions (code),
    kind             TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    result           TEXT NOT NULL
);
CREATE INDEX batches_institution ON batches (institution_code, received_at);

-- The latest consent of a person at an institution (medical information by numbers).
CREATE INDEX consents_person ON consents (person_id, institution_code, at);
