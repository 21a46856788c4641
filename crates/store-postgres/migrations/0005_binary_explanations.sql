-- Explanations are stored in their binary form (version 3, ~150 bytes
-- instead of ~400 of JSON: a run of a million clients writes ~250 MB less).
-- The JSON of earlier runs stays readable: it keeps its UTF-8 bytes, and
-- `Explanation::from_stored` reads both.
ALTER TABLE explanations ALTER COLUMN explanation TYPE bytea USING convert_to(explanation, 'UTF8');
