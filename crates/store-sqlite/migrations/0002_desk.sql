-- Tierwise schema, version 2 (SQLite): the desk — staff, sessions, one-time
-- links, sales, cached run counts, the indexes of the client list, and the
-- hash chain of the audit trail.
--
-- The program runs this file and then, in the same transaction, chains the
-- events a version-1 database already holds (SHA-256 is computed in Rust:
-- `chain_existing_audit` in src/desk.rs), fills audit_head and re-creates the
-- append-only UPDATE trigger dropped at the end of this file.

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    advisor_id    TEXT,
    branch_id     TEXT,
    can_view_pii  INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- token_hash is the SHA-256 of the cookie's token; times are Unix seconds.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE one_time_links (
    token_hash       TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
) WITHOUT ROWID;

-- One sale per check; amount is an exact decimal as TEXT like all money.
CREATE TABLE sales (
    sale_id              INTEGER PRIMARY KEY,
    check_id             INTEGER NOT NULL UNIQUE,
    client_id            TEXT NOT NULL,
    product_id           TEXT NOT NULL,
    amount               TEXT NOT NULL,
    recorded_by          TEXT NOT NULL,
    recorded_at          TEXT NOT NULL,
    confirmed_by         TEXT,
    confirmed_at         TEXT,
    confirmation_channel TEXT,
    recording_ref        TEXT
);
CREATE INDEX sales_by_client ON sales (client_id);

-- Who ran a check (a username, or `cli` for checks recorded before version 2).
ALTER TABLE suitability_checks ADD COLUMN actor TEXT NOT NULL DEFAULT 'cli';
CREATE INDEX suitability_checks_by_verdict ON suitability_checks (verdict, check_id);
CREATE INDEX suitability_checks_by_client_check ON suitability_checks (client_id, check_id);

-- A run's dashboard counts, computed once (run_counts_done marks it) and
-- adjusted by reclassifications.
CREATE TABLE run_counts (
    run_id          INTEGER NOT NULL,
    branch_id       TEXT,
    advisor_id      TEXT,
    asset_tier      TEXT NOT NULL,
    segment         TEXT NOT NULL,
    prev_asset_tier TEXT,
    prev_segment    TEXT,
    clients         INTEGER NOT NULL
);
CREATE INDEX run_counts_by_run ON run_counts (run_id);
CREATE TABLE run_counts_done (
    run_id INTEGER PRIMARY KEY
);

-- The client list: scope walks, name prefix and phone search.
CREATE INDEX clients_by_advisor ON clients (advisor_id, client_id);
CREATE INDEX clients_by_branch ON clients (branch_id, client_id);
CREATE INDEX clients_by_name ON clients (name);
CREATE INDEX clients_by_phone ON clients (phone);

-- The audit chain: hash = SHA-256 over prev_hash and the event's fields
-- (tierwise_store::audit_hash); audit_head is the newest event as written.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE INDEX audit_events_by_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_by_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_by_action ON audit_events (action, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
-- The head only moves forward one event at a time, to an event that exists.
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1
    OR NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq AND hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'the audit head only moves to the next event'); END;
CREATE TRIGGER audit_head_first BEFORE INSERT ON audit_head
WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq AND hash = NEW.hash)
    OR EXISTS (SELECT 1 FROM audit_events WHERE seq > NEW.seq)
BEGIN SELECT RAISE(ABORT, 'the audit head is the newest event'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- re-created by the program once the existing events are chained
DROP TRIGGER audit_events_no_update;
