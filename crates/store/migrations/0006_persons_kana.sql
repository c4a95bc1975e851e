-- The municipal counter finds residents by family name alone, in kanji (persons_name_birth) or
-- in kana (this index).
CREATE INDEX IF NOT EXISTS persons_family_kana ON persons (family_kana);
