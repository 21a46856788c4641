-- Tierwise schema, version 4 (SQLite): monitoring and relationship work —
-- alerts, tasks, the client notification outbox, satisfaction surveys and
-- the advisors' books per run (PRODUCT.md 6).
--
-- Deduplication lives in the unique indexes: one alert per (kind, subject,
-- episode) and one open per (kind, subject); likewise for tasks and notices.
-- Writers insert with OR IGNORE, so a detection run twice stores nothing new.

CREATE TABLE alerts (
    alert_id        INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,              -- high | medium | low
    severity_rank   INTEGER NOT NULL,           -- 0 | 1 | 2, for ordering
    subject         TEXT NOT NULL,              -- client id, or advisor id
    client_id       TEXT,
    advisor_id      TEXT,                       -- assigned to; NULL: the branch's team lead
    branch_id       TEXT,
    episode         TEXT NOT NULL,
    evidence        TEXT NOT NULL,              -- JSON: numbers compared, rule fired
    source          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open', -- open | acknowledged | closed
    created_at      TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    closed_by       TEXT,
    closed_at       TEXT,
    outcome         TEXT
);
-- subject first: a client's alerts, and a sweep's chunk of clients, walk them
CREATE UNIQUE INDEX alerts_by_key ON alerts (subject, kind, episode);
CREATE UNIQUE INDEX alerts_one_open ON alerts (subject, kind) WHERE status <> 'closed';
-- the lists walk these in order; the counts of a desk page (by kind and
-- severity, by advisor) read them alone, without the rows
CREATE INDEX alerts_open ON alerts (severity_rank, alert_id, kind, advisor_id) WHERE status <> 'closed';
CREATE INDEX alerts_open_by_advisor ON alerts (advisor_id, severity_rank, alert_id, kind) WHERE status <> 'closed';
CREATE INDEX alerts_open_by_branch ON alerts (branch_id, severity_rank, alert_id, kind, advisor_id) WHERE status <> 'closed';

CREATE TABLE tasks (
    task_id      INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    advisor_id   TEXT,
    branch_id    TEXT,
    episode      TEXT NOT NULL,
    due          TEXT NOT NULL,                 -- YYYY-MM-DD
    evidence     TEXT NOT NULL,
    source       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',  -- open | done | cancelled
    created_at   TEXT NOT NULL,
    completed_by TEXT,
    completed_at TEXT,
    outcome      TEXT
);
CREATE UNIQUE INDEX tasks_by_key ON tasks (client_id, kind, episode);
CREATE UNIQUE INDEX tasks_one_open ON tasks (client_id, kind) WHERE status = 'open';
CREATE INDEX tasks_open ON tasks (due, task_id) WHERE status = 'open';
CREATE INDEX tasks_open_by_advisor ON tasks (advisor_id, due, task_id) WHERE status = 'open';
CREATE INDEX tasks_open_by_branch ON tasks (branch_id, due, task_id, advisor_id) WHERE status = 'open';
CREATE INDEX tasks_by_kind_due ON tasks (kind, due);

-- What clients must be told, delivered to a webhook (or exported).
CREATE TABLE notices (
    notice_id       INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    episode         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending', -- pending | delivered | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,      -- Unix seconds
    last_error      TEXT,
    delivered_at    TEXT
);
CREATE UNIQUE INDEX notices_by_key ON notices (client_id, kind, episode);
CREATE INDEX notices_due ON notices (next_attempt_at, notice_id) WHERE status = 'pending';
CREATE INDEX notices_by_status ON notices (status, notice_id);

-- Satisfaction surveys: one-time links; the database keeps the token's hash.
CREATE TABLE surveys (
    token_hash  TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    advisor_id  TEXT,
    branch_id   TEXT,
    segment     TEXT,
    task_id     INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answered_at INTEGER,
    nps         INTEGER,
    comment     TEXT
) WITHOUT ROWID;
CREATE INDEX surveys_by_client ON surveys (client_id);

-- Each advisor's clients and AUM in a run, computed once (advisor_books_done).
CREATE TABLE advisor_books (
    run_id     INTEGER NOT NULL,
    advisor_id TEXT NOT NULL,
    clients    INTEGER NOT NULL,
    aum        TEXT NOT NULL,
    PRIMARY KEY (run_id, advisor_id)
) WITHOUT ROWID;
CREATE TABLE advisor_books_done (
    run_id INTEGER PRIMARY KEY
);

-- KPIs count the checks of a period: by their time
CREATE INDEX suitability_checks_by_at ON suitability_checks (at);
