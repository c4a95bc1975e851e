-- Self-declarations are re-checked by birth date and a name compared as people write it (with or
-- without the space, in kana or kanji, in either width): candidates come by birth date.
CREATE INDEX IF NOT EXISTS persons_birth ON persons (birth_date);
