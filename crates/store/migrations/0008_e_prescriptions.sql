-- Whether an institution issues electronic prescriptions (電子処方箋): where it does, the reader
-- asks the patient electronic or paper with the consent (kakunin_core::prescription).
ALTER TABLE institutions ADD COLUMN issues_e_prescriptions BIGINT NOT NULL DEFAULT 0;
