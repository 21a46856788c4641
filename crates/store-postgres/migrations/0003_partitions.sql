-- Partitioned runs (`classify --partition I/N`, docs/scale-out.md): the run
-- row is committed when the run opens, with finished_at NULL until the
-- finishing step; readers see only runs with a finished_at.
ALTER TABLE classification_runs ADD COLUMN partitions   BIGINT NOT NULL DEFAULT 0; -- 0: an ordinary run
ALTER TABLE classification_runs ADD COLUMN previous_run BIGINT;  -- where prev_asset_tier / prev_segment come from

CREATE TABLE classification_run_partitions (
    run_id      BIGINT NOT NULL,
    part        BIGINT NOT NULL,            -- 1 … N
    lower_id    TEXT COLLATE "C",           -- first client id of the partition (NULL: from the start)
    upper_id    TEXT COLLATE "C",           -- first client id of the next one (NULL: to the end)
    finished_at TIMESTAMPTZ,                -- NULL until the partition's transaction commits
    clients     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, part)
);
