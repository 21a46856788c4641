-- Tierwise benchmark peer: PRODUCT.md section 3 (classification) with the
-- default rule pack `cn-bank`, written independently in DuckDB SQL over the
-- tables of load.sql, following docs/decisions.md where PRODUCT.md is silent.
--
--   SELECT * FROM tierwise_classify(DATE '2025-06-30', '2025.1');
--
-- gives one row per client with the columns of `tierwise export
-- classifications` (PRODUCT.md 7.1). `d` is the evaluation date D;
-- `rule_version` is the version of packs/cn-bank.toml (bench/compare.py reads
-- it from the pack and checks the pack's thresholds against the ones below).
--
-- cn-bank constants used here (packs/cn-bank.toml):
--   assessment validity 12 months, expiring within 30 days;
--   churn window 90 days, activity window 365 days;
--   wealth_min 500,000; hnw_min 10,000,000; potential_min 200,000.
--
-- Exactness: money is DECIMAL (load.sql). DuckDB divides decimals in DOUBLE,
-- so the churn ratio is never computed: with base > 0,
-- net / base >= 0.30  <=>  net >= 0.30 * base, which is exact.
--
-- Not covered (not in generated books): assessments given only as `answers`
-- (they would need the questionnaire's scoring; bench/compare.py refuses such
-- a book), questionnaires that set their own validity_months, and timestamps
-- with a UTC offset.

CREATE OR REPLACE MACRO tierwise_classify(d, rule_version) AS TABLE
WITH
-- PRODUCT.md 2.2: category → business line (variety is not used by section 3)
prod AS (
    SELECT
        product_id,
        risk_level,
        coalesce(annual_fee_rate, 0) AS fee_rate,
        CASE
            WHEN category IN ('deposit', 'time_deposit', 'structured_deposit') THEN 'deposit'
            WHEN category = 'insurance' THEN 'insurance'
            WHEN category IN ('loan', 'credit_card') THEN 'credit'
            ELSE 'wealth'   -- funds, bonds, wealth products, stock, trust, derivatives, complex
        END AS line
    FROM products
),
-- the counted snapshot: each client's newest holdings date on or before D
snap AS (
    SELECT client_id, max(as_of) AS snap_date
    FROM holdings
    WHERE as_of <= d
    GROUP BY client_id
),
hold AS (
    SELECT
        h.client_id,
        -- credit lines are liabilities: never in aum nor value
        coalesce(sum(h.market_value) FILTER (WHERE p.line <> 'credit'), 0) AS aum,
        coalesce(sum(h.market_value * p.fee_rate) FILTER (WHERE p.line <> 'credit'), 0) AS value,
        -- lines used and behaviour risk: any product held with value > 0 (credit included)
        bool_or(p.line = 'deposit' AND h.market_value > 0) AS h_deposit,
        bool_or(p.line = 'wealth' AND h.market_value > 0) AS h_wealth,
        bool_or(p.line = 'insurance' AND h.market_value > 0) AS h_insurance,
        bool_or(p.line = 'credit' AND h.market_value > 0) AS h_credit,
        max(p.risk_level) FILTER (WHERE h.market_value > 0) AS h_risk
    FROM holdings h
    JOIN snap s ON s.client_id = h.client_id AND s.snap_date = h.as_of
    JOIN prod p ON p.product_id = h.product_id
    GROUP BY h.client_id
),
-- transactions by local calendar date: last 365 days = D-364 … D, last 90 = D-89 … D
txn AS (
    SELECT
        t.client_id,
        count(*) FILTER (WHERE t.kind IN ('buy', 'sell', 'redeem')) AS trades_12m,
        coalesce(sum(t.amount) FILTER (
            WHERE t.kind IN ('deposit', 'transfer_in') AND t.ts >= CAST(d - 89 AS TIMESTAMP)), 0) AS inflow,
        coalesce(sum(t.amount) FILTER (
            WHERE t.kind IN ('withdraw', 'transfer_out') AND t.ts >= CAST(d - 89 AS TIMESTAMP)), 0) AS outflow,
        -- a transaction without a product counts for the deposit line
        bool_or(t.product_id IS NULL OR p.line = 'deposit') AS t_deposit,
        bool_or(p.line = 'wealth') AS t_wealth,
        bool_or(p.line = 'insurance') AS t_insurance,
        bool_or(p.line = 'credit') AS t_credit,
        max(p.risk_level) FILTER (WHERE t.kind = 'buy') AS t_risk
    FROM transactions t
    LEFT JOIN prod p ON p.product_id = t.product_id
    WHERE t.ts >= CAST(d - 364 AS TIMESTAMP) AND t.ts < CAST(d + 1 AS TIMESTAMP)
    GROUP BY t.client_id
),
-- the newest assessment taken on or before D (by time)
asmt AS (
    SELECT
        client_id,
        arg_max({'at': assessed_at, 'level': risk_level, 'lowest': lowest, 'goal': goal}, assessed_at) AS a
    FROM assessments
    WHERE assessed_at < CAST(d + 1 AS TIMESTAMP)
    GROUP BY client_id
),
-- one row of facts per client
facts AS (
    SELECT
        c.client_id,
        coalesce(c.kind, 'person') AS kind,
        coalesce(h.aum, 0) AS aum,
        coalesce(h.value, 0) AS value,
        a.a.level AS risk_level,
        coalesce(a.a.lowest, false) AS risk_lowest,
        CAST(a.a.at AS DATE) AS assessed_on,
        -- DuckDB's date + INTERVAL n MONTH clamps to the month's last day (2024-02-29 + 12 → 2025-02-28)
        CAST(CAST(a.a.at AS DATE) + INTERVAL 12 MONTH AS DATE) AS expiry,
        a.a.goal AS goal,
        c.material_change_at,
        coalesce(c.experience_years, 0) AS experience_years,
        coalesce(t.trades_12m, 0) AS trades_12m,
        -- age in full years at D; a 29 February birthday falls on 28 February in common years
        CASE WHEN coalesce(c.kind, 'person') = 'person' AND c.birth_date IS NOT NULL THEN
            year(d) - year(c.birth_date)
            - CASE WHEN month(d) * 100 + day(d) <
                        month(c.birth_date) * 100
                        + CASE WHEN month(c.birth_date) = 2 AND day(c.birth_date) = 29
                                    AND NOT ((year(d) % 4 = 0 AND year(d) % 100 <> 0) OR year(d) % 400 = 0)
                               THEN 28 ELSE day(c.birth_date) END
                   THEN 1 ELSE 0 END
        END AS age,
        CAST(coalesce(h.h_deposit, false) OR coalesce(t.t_deposit, false) AS INTEGER)
          + CAST(coalesce(h.h_wealth, false) OR coalesce(t.t_wealth, false) AS INTEGER)
          + CAST(coalesce(h.h_insurance, false) OR coalesce(t.t_insurance, false) AS INTEGER)
          + CAST(coalesce(h.h_credit, false) OR coalesce(t.t_credit, false) AS INTEGER) AS lines_used,
        c.payroll_employer_id IS NOT NULL AS has_payroll_employer,
        coalesce(c.professional_status, 'derive') AS professional_status,
        coalesce(c.licensed_financial_institution, false) AS licensed,
        coalesce(c.net_assets, 0) AS net_assets,
        coalesce(c.annual_income, 0) AS annual_income,
        greatest(coalesce(c.declared_financial_assets, 0), coalesce(h.aum, 0)) AS financial_assets,
        coalesce(c.declared_liabilities, 0) AS liabilities,
        coalesce(t.outflow, 0) - coalesce(t.inflow, 0) AS net_outflow,
        -- R1 < … < R5 compare as text
        CASE WHEN h.h_risk IS NULL THEN t.t_risk
             WHEN t.t_risk IS NULL THEN h.h_risk
             ELSE greatest(h.h_risk, t.t_risk) END AS behaviour_risk
    FROM clients c
    LEFT JOIN hold h ON h.client_id = c.client_id
    LEFT JOIN txn t ON t.client_id = c.client_id
    LEFT JOIN asmt a ON a.client_id = c.client_id
),
dims AS (
    SELECT
        client_id,
        aum,
        CASE WHEN aum >= 10000000 THEN 'hnw' WHEN aum >= 500000 THEN 'wealth' ELSE 'mass' END AS asset_tier,
        risk_level,
        risk_lowest,
        CASE
            WHEN assessed_on IS NULL THEN 'missing'
            WHEN d >= expiry THEN 'expired'
            -- a material change after D is not known on D (decisions.md)
            WHEN material_change_at > assessed_on AND material_change_at <= d THEN 'stale'
            WHEN expiry - d <= 30 THEN 'expiring'
            ELSE 'valid'
        END AS assessment_status,
        CASE
            WHEN risk_level IN ('C1', 'C2') THEN 'conservative'
            WHEN risk_level = 'C3' THEN 'balanced'
            WHEN risk_level IN ('C4', 'C5') THEN 'aggressive'
            ELSE 'unknown'
        END AS risk_preference,
        CASE WHEN goal IN ('growth', 'balanced', 'preservation') THEN goal ELSE 'unknown' END AS goal,
        CASE
            WHEN experience_years >= 5 AND trades_12m >= 24 THEN 'expert'
            WHEN experience_years >= 2 OR trades_12m >= 6 THEN 'intermediate'
            ELSE 'novice'
        END AS experience,
        CASE
            WHEN age < 30 THEN 'starter'
            WHEN age < 45 THEN 'growth'
            WHEN age < 60 THEN 'mature'
            WHEN age >= 60 THEN 'retired'
        END AS lifecycle,
        CASE
            WHEN lines_used >= 2 AND has_payroll_employer THEN 'ecosystem'
            WHEN lines_used >= 2 THEN 'comprehensive'
            ELSE 'basic'
        END AS depth,
        -- PRODUCT.md 3.1
        CASE
            WHEN professional_status = 'approved' THEN 'professional'
            WHEN professional_status = 'opted_out' THEN 'ordinary'
            WHEN kind = 'institution' AND licensed THEN 'professional'
            WHEN kind = 'institution' AND net_assets >= 20000000 AND financial_assets >= 10000000
                 AND experience_years >= 2 THEN 'professional'
            WHEN kind = 'person' AND (financial_assets >= 5000000 OR annual_income >= 500000)
                 AND experience_years >= 2 THEN 'professional'
            ELSE 'ordinary'
        END AS investor_category,
        (kind = 'person' AND experience_years >= 2
            AND (financial_assets - liabilities >= 3000000 OR financial_assets >= 5000000
                 OR annual_income >= 400000))
        OR (kind = 'institution' AND net_assets >= 10000000) AS qualified_investor,
        (kind = 'person' AND (financial_assets >= 3000000 OR annual_income >= 500000))
        OR (kind = 'institution' AND net_assets >= 10000000) AS private_fund_qualified,
        -- base = aum + net; ratio = net / base, compared without dividing
        CASE
            WHEN aum + net_outflow <= 0 THEN 'low'
            WHEN net_outflow >= 0.30 * (aum + net_outflow) THEN 'high'
            WHEN net_outflow >= 0.10 * (aum + net_outflow) THEN 'medium'
            ELSE 'low'
        END AS churn_risk,
        value,
        behaviour_risk
    FROM facts
)
SELECT
    client_id,
    aum,
    asset_tier,
    risk_level,
    risk_lowest,
    assessment_status,
    risk_preference,
    goal,
    experience,
    lifecycle,
    depth,
    investor_category,
    qualified_investor,
    private_fund_qualified,
    churn_risk,
    value,
    -- over all clients of the run; ids compare byte-wise (DuckDB's default binary collation)
    NTILE(10) OVER (ORDER BY value DESC, client_id ASC) AS value_decile,
    behaviour_risk,
    -- first match wins
    CASE
        WHEN asset_tier = 'hnw' AND risk_preference = 'aggressive' THEN 'hnw-growth'
        WHEN asset_tier = 'hnw' THEN 'hnw-preserve'
        WHEN asset_tier = 'wealth' AND risk_preference = 'aggressive' THEN 'wealth-growth'
        WHEN asset_tier = 'wealth' AND lifecycle = 'retired' THEN 'wealth-retiree'
        WHEN asset_tier = 'wealth' THEN 'wealth-balanced'
        WHEN asset_tier = 'mass' AND aum >= 200000 THEN 'mass-potential'
        WHEN asset_tier = 'mass' AND depth <> 'basic' THEN 'mass-engaged'
        ELSE 'mass-basic'
    END AS segment,
    'cn-bank' AS rule_pack,
    rule_version AS rule_version,
    d AS as_of
FROM dims;
