-- Partitioned runs (`classify --partition I/N`, docs/scale-out.md): the run
-- row is committed when the run opens, with finished_at '' until the
-- finishing step; readers see only runs with a finished_at.
ALTER TABLE classification_runs ADD COLUMN partitions INTEGER NOT NULL DEFAULT 0; -- 0: an ordinary run
ALTER TABLE classification_runs ADD COLUMN previous_run INTEGER;  -- where prev_asset_tier / prev_segment come from

CREATE TABLE classification_run_partitions (
    run_id      INTEGER NOT NULL,
    part        INTEGER NOT NULL,  -- 1 … N
    lower_id    TEXT,              -- first client id of the partition (NULL: from the start)
    upper_id    TEXT,              -- first client id of the next one (NULL: to the end)
    finished_at TEXT,              -- NULL until the partition's transaction commits
    clients     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, part)
);
