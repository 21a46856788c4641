-- Tierwise schema, version 1 (SQLite).
-- Every client-scoped table has client_id in its primary key, so the same
-- shape distributes by client_id on PostgreSQL/Citus. Money is TEXT
-- holding an exact decimal; dates are TEXT 'YYYY-MM-DD'; timestamps TEXT
-- 'YYYY-MM-DDTHH:MM:SS[.f]' in the institution's local time.

CREATE TABLE advisors (
    advisor_id       TEXT PRIMARY KEY,
    name             TEXT,
    title            TEXT,
    experience_years INTEGER,
    capacity         INTEGER,
    branch_id        TEXT
) WITHOUT ROWID;

CREATE TABLE products (
    product_id           TEXT PRIMARY KEY,
    name                 TEXT,
    category             TEXT NOT NULL,
    variety              TEXT,
    risk_level           TEXT NOT NULL,
    horizon_months       INTEGER NOT NULL,
    min_investment       TEXT NOT NULL,
    investor_requirement TEXT NOT NULL,
    annual_fee_rate      TEXT NOT NULL,
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE clients (
    client_id                      TEXT PRIMARY KEY,
    kind                           TEXT NOT NULL,
    name                           TEXT,
    gender                         TEXT,
    birth_date                     TEXT,
    id_number                      TEXT,
    phone                          TEXT,
    email                          TEXT,
    occupation                     TEXT,
    city                           TEXT,
    branch_id                      TEXT,
    advisor_id                     TEXT,
    onboarded_at                   TEXT,
    household_id                   TEXT,
    annual_income                  TEXT,
    declared_financial_assets      TEXT,
    declared_liabilities           TEXT,
    net_assets                     TEXT,
    licensed_financial_institution INTEGER,
    experience_years               INTEGER,
    payroll_employer_id            TEXT,
    professional_status            TEXT NOT NULL,
    material_change_at             TEXT
) WITHOUT ROWID;

CREATE TABLE holdings (
    client_id    TEXT NOT NULL,
    as_of        TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    market_value TEXT NOT NULL,
    PRIMARY KEY (client_id, as_of, product_id)
) WITHOUT ROWID;

CREATE TABLE transactions (
    client_id  TEXT NOT NULL,
    txn_id     TEXT NOT NULL,
    product_id TEXT,
    ts         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    amount     TEXT NOT NULL,
    channel    TEXT,
    PRIMARY KEY (client_id, txn_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX transactions_by_txn_id ON transactions (txn_id);

CREATE TABLE assessments (
    client_id        TEXT NOT NULL,
    assessed_at      TEXT NOT NULL,
    questionnaire_id TEXT NOT NULL,
    channel          TEXT NOT NULL,
    answers          TEXT,
    score            INTEGER,
    risk_level       TEXT NOT NULL,
    lowest           INTEGER NOT NULL,
    horizon_months   INTEGER,
    varieties        TEXT,
    goal             TEXT,
    PRIMARY KEY (client_id, assessed_at)
) WITHOUT ROWID;

CREATE TABLE interactions (
    client_id  TEXT NOT NULL,
    at         TEXT NOT NULL,
    channel    TEXT NOT NULL,
    advisor_id TEXT,
    topic      TEXT,
    outcome    TEXT,
    PRIMARY KEY (client_id, at, channel)
) WITHOUT ROWID;

-- The text of every pack version a run used, so a result can be explained later.
CREATE TABLE rule_packs (
    pack_id     TEXT NOT NULL,
    version     TEXT NOT NULL,
    source_text TEXT NOT NULL,
    stored_at   TEXT NOT NULL,
    PRIMARY KEY (pack_id, version)
);

CREATE TABLE classification_runs (
    run_id       INTEGER PRIMARY KEY,
    as_of        TEXT NOT NULL,
    rule_pack    TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    clients      INTEGER NOT NULL
);

-- One row per client per run: history. prev_* are the client's values in the
-- run before (NULL: not in it), which makes migrations a simple GROUP BY.
-- Rows stay small (WITHOUT ROWID suits them); the explanation lives beside.
CREATE TABLE classifications (
    run_id                 INTEGER NOT NULL,
    client_id              TEXT NOT NULL,
    aum                    TEXT NOT NULL,
    asset_tier             TEXT NOT NULL,
    risk_level             TEXT NOT NULL,
    risk_lowest            INTEGER NOT NULL,
    assessment_status      TEXT NOT NULL,
    risk_preference        TEXT NOT NULL,
    goal                   TEXT NOT NULL,
    experience             TEXT NOT NULL,
    lifecycle              TEXT NOT NULL,
    depth                  TEXT NOT NULL,
    investor_category      TEXT NOT NULL,
    qualified_investor     INTEGER NOT NULL,
    private_fund_qualified INTEGER NOT NULL,
    churn_risk             TEXT NOT NULL,
    value                  TEXT NOT NULL,
    behaviour_risk         TEXT NOT NULL,
    segment                TEXT NOT NULL,
    prev_asset_tier        TEXT,
    prev_segment           TEXT,
    PRIMARY KEY (run_id, client_id)
) WITHOUT ROWID;

-- NTILE(10) value deciles, known only when the whole run is computed:
-- inserted at the end rather than updated into the wide rows.
CREATE TABLE value_deciles (
    run_id       INTEGER NOT NULL,
    client_id    TEXT NOT NULL,
    value_decile INTEGER NOT NULL,
    PRIMARY KEY (run_id, client_id)
) WITHOUT ROWID;

-- The explanation of each result (compact JSON, rendered against the pack
-- version of the run). Large rows: an ordinary rowid table.
CREATE TABLE explanations (
    run_id      INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (run_id, client_id)
);

CREATE TABLE suitability_checks (
    check_id     INTEGER PRIMARY KEY,
    client_id    TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    at           TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    rule_pack    TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    payload      TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX suitability_checks_by_client ON suitability_checks (client_id, at);

-- Append-only: the triggers refuse every UPDATE and DELETE.
CREATE TABLE audit_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
