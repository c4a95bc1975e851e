-- 医療扶助: the welfare office's tickets (医療券 / 調剤券) per recipient and month, naming the
-- designated institution (kakunin_core::medical_assistance).
CREATE TABLE medical_tickets (
    issue_number            TEXT PRIMARY KEY,            -- 交付番号
    person_id               BIGINT NOT NULL REFERENCES persons (id),
    kind                    TEXT NOT NULL,               -- medical | dispensing
    month                   TEXT NOT NULL,               -- first day of the month of treatment
    valid_from              TEXT NOT NULL,
    valid_to                TEXT NOT NULL,
    designated_institution  TEXT NOT NULL,
    designated_name         TEXT NOT NULL,
    self_pay_amount         BIGINT NOT NULL
);
CREATE INDEX medical_tickets_person ON medical_tickets (person_id, month);
