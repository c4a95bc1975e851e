-- The audit chain's head, one row. Writers lock it (UPDATE first) so that several processes
-- append to one chain in turn: a row lock on PostgreSQL, the write lock on SQLite.
CREATE TABLE audit_head (
    id              BIGINT PRIMARY KEY,
    seq             BIGINT NOT NULL,
    hash            TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
SELECT 1, COALESCE(MAX(seq), 0), '0000000000000000000000000000000000000000000000000000000000000000' FROM audit_log;
UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE seq = audit_head.seq) WHERE seq > 0;
