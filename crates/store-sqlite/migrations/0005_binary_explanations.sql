-- Explanations are stored in their binary form (version 3, ~150 bytes
-- instead of ~400 of JSON). Rows that small suit a WITHOUT ROWID table keyed
-- by (run_id, client_id): one B-tree a row instead of the rowid table and
-- its separate key index. The JSON of earlier runs is kept as it is (TEXT
-- in the BLOB column); `Explanation::from_stored` reads both.
CREATE TABLE explanations_v3 (
    run_id      INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    explanation BLOB NOT NULL,
    PRIMARY KEY (run_id, client_id)
) WITHOUT ROWID;
INSERT INTO explanations_v3 (run_id, client_id, explanation)
    SELECT run_id, client_id, explanation FROM explanations ORDER BY run_id, client_id;
DROP TABLE explanations;
ALTER TABLE explanations_v3 RENAME TO explanations;
