-- Tierwise schema, version 1 (PostgreSQL).
--
-- The same tables and meaning as the SQLite schema, in PostgreSQL types:
-- money and rates are NUMERIC (exact, never float), dates DATE, the book's
-- timestamps TIMESTAMP without time zone (the institution's local time, as
-- imported), the instants the program stamps itself (runs, checks, audit)
-- TIMESTAMPTZ, flags BOOLEAN, counts BIGINT (they hold any u32).
--
-- Every id column is COLLATE "C": ids sort byte-wise, exactly as SQLite
-- (and Rust) compare them, so `ORDER BY client_id` follows the primary-key
-- index and the streamed merge join sees the same order on both backends.
--
-- Every client-scoped table has client_id in its primary key, so the same
-- shape distributes by client_id on Citus. A distributed table cannot have
-- a UNIQUE constraint without the distribution column, so txn_id is unique
-- only within (client_id, txn_id) here; the store keeps it unique across
-- clients itself (imports are serialised, and a txn_id re-imported under
-- another client is first deleted from the old one).

CREATE TABLE advisors (
    advisor_id       TEXT COLLATE "C" PRIMARY KEY,
    name             TEXT,
    title            TEXT,
    experience_years BIGINT,
    capacity         BIGINT,
    branch_id        TEXT COLLATE "C"
);

CREATE TABLE products (
    product_id           TEXT COLLATE "C" PRIMARY KEY,
    name                 TEXT,
    category             TEXT NOT NULL,
    variety              TEXT,
    risk_level           TEXT NOT NULL,
    horizon_months       BIGINT NOT NULL,
    min_investment       NUMERIC NOT NULL,
    investor_requirement TEXT NOT NULL,
    annual_fee_rate      NUMERIC NOT NULL,
    status               TEXT NOT NULL,
    currency             TEXT NOT NULL
);

CREATE TABLE clients (
    client_id                      TEXT COLLATE "C" PRIMARY KEY,
    kind                           TEXT NOT NULL,
    name                           TEXT,
    gender                         TEXT,
    birth_date                     DATE,
    id_number                      TEXT,
    phone                          TEXT,
    email                          TEXT,
    occupation                     TEXT,
    city                           TEXT,
    branch_id                      TEXT COLLATE "C",
    advisor_id                     TEXT COLLATE "C",
    onboarded_at                   DATE,
    household_id                   TEXT COLLATE "C",
    annual_income                  NUMERIC,
    declared_financial_assets      NUMERIC,
    declared_liabilities           NUMERIC,
    net_assets                     NUMERIC,
    licensed_financial_institution BOOLEAN,
    experience_years               BIGINT,
    payroll_employer_id            TEXT COLLATE "C",
    professional_status            TEXT NOT NULL,
    material_change_at             DATE
);

CREATE TABLE holdings (
    client_id    TEXT COLLATE "C" NOT NULL,
    as_of        DATE NOT NULL,
    product_id   TEXT COLLATE "C" NOT NULL,
    market_value NUMERIC NOT NULL,
    PRIMARY KEY (client_id, as_of, product_id)
);

CREATE TABLE transactions (
    client_id  TEXT COLLATE "C" NOT NULL,
    txn_id     TEXT COLLATE "C" NOT NULL,
    product_id TEXT COLLATE "C",
    ts         TIMESTAMP NOT NULL,
    kind       TEXT NOT NULL,
    amount     NUMERIC NOT NULL,
    channel    TEXT,
    PRIMARY KEY (client_id, txn_id)
);
-- Not UNIQUE (see the top of this file): finds a txn_id re-imported under
-- another client.
CREATE INDEX transactions_by_txn_id ON transactions (txn_id);

CREATE TABLE assessments (
    client_id        TEXT COLLATE "C" NOT NULL,
    assessed_at      TIMESTAMP NOT NULL,
    questionnaire_id TEXT NOT NULL,
    channel          TEXT NOT NULL,
    answers          TEXT,
    score            BIGINT,
    risk_level       TEXT NOT NULL,
    lowest           BOOLEAN NOT NULL,
    horizon_months   BIGINT,
    varieties        TEXT,
    goal             TEXT,
    PRIMARY KEY (client_id, assessed_at)
);

CREATE TABLE interactions (
    client_id  TEXT COLLATE "C" NOT NULL,
    at         TIMESTAMP NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    advisor_id TEXT COLLATE "C",
    topic      TEXT,
    outcome    TEXT,
    PRIMARY KEY (client_id, at, channel)
);

-- The text of every pack version a run used, so a result can be explained later.
CREATE TABLE rule_packs (
    pack_id     TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    source_text TEXT NOT NULL,
    stored_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pack_id, version)
);

-- finished_at is NULL only inside the run's own transaction: a run becomes
-- visible when it is finished and committed, never before. run_id is the
-- previous one + 1, taken under the run lock (a sequence would leave gaps
-- where a run was abandoned; SQLite numbers runs without gaps).
CREATE TABLE classification_runs (
    run_id       BIGINT PRIMARY KEY,
    as_of        DATE NOT NULL,
    rule_pack    TEXT COLLATE "C" NOT NULL,
    rule_version TEXT COLLATE "C" NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    clients      BIGINT NOT NULL
);

-- One row per client per run: history. prev_* are the client's values in the
-- run before (NULL: not in it), which makes migrations a simple GROUP BY.
CREATE TABLE classifications (
    run_id                 BIGINT NOT NULL,
    client_id              TEXT COLLATE "C" NOT NULL,
    aum                    NUMERIC NOT NULL,
    asset_tier             TEXT COLLATE "C" NOT NULL,
    risk_level             TEXT NOT NULL,
    risk_lowest            BOOLEAN NOT NULL,
    assessment_status      TEXT NOT NULL,
    risk_preference        TEXT NOT NULL,
    goal                   TEXT NOT NULL,
    experience             TEXT NOT NULL,
    lifecycle              TEXT NOT NULL,
    depth                  TEXT NOT NULL,
    investor_category      TEXT NOT NULL,
    qualified_investor     BOOLEAN NOT NULL,
    private_fund_qualified BOOLEAN NOT NULL,
    churn_risk             TEXT NOT NULL,
    value                  NUMERIC NOT NULL,
    behaviour_risk         TEXT NOT NULL,
    segment                TEXT COLLATE "C" NOT NULL,
    prev_asset_tier        TEXT COLLATE "C",
    prev_segment           TEXT COLLATE "C",
    PRIMARY KEY (run_id, client_id)
);

-- NTILE(10) value deciles, known only when the whole run is computed:
-- inserted at the end rather than updated into the wide rows.
CREATE TABLE value_deciles (
    run_id       BIGINT NOT NULL,
    client_id    TEXT COLLATE "C" NOT NULL,
    value_decile SMALLINT NOT NULL,
    PRIMARY KEY (run_id, client_id)
);

-- The explanation of each result (compact JSON kept byte for byte, rendered
-- against the pack version of the run).
CREATE TABLE explanations (
    run_id      BIGINT NOT NULL,
    client_id   TEXT COLLATE "C" NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (run_id, client_id)
);

CREATE TABLE suitability_checks (
    check_id     BIGINT GENERATED BY DEFAULT AS IDENTITY,
    client_id    TEXT COLLATE "C" NOT NULL,
    product_id   TEXT COLLATE "C" NOT NULL,
    at           TIMESTAMP NOT NULL,
    verdict      TEXT NOT NULL,
    rule_pack    TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    payload      TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, check_id)
);
CREATE INDEX suitability_checks_by_client ON suitability_checks (client_id, at);

-- Append-only: the triggers refuse every UPDATE, DELETE and TRUNCATE.
CREATE TABLE audit_events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
