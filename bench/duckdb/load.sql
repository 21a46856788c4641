-- Tierwise benchmark peer: load the seven import CSV files (PRODUCT.md 7.3)
-- into DuckDB tables, with explicit column types.
--
-- Set the folder first:   SET VARIABLE data_dir = '/path/to/book';
-- (bench/compare.py does.) Columns are matched by their header names
-- (`types`), so a file's column order does not matter, as for `tierwise import`.
--
-- Money, amounts and rates are exact decimals, DECIMAL(38,10), never DOUBLE.
-- Timestamps without an offset are local time (PRODUCT.md 7.3); the generated
-- books have no offsets, so they load as TIMESTAMP as written.
-- Nothing is validated (references, enumerations): that is `tierwise import`'s
-- job; like `sqlite3 .import`, this only parses and stores.

CREATE OR REPLACE TABLE advisors AS
SELECT advisor_id, name, title, experience_years, capacity, branch_id
FROM read_csv(getvariable('data_dir') || '/advisors.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'advisor_id': 'VARCHAR', 'name': 'VARCHAR', 'title': 'VARCHAR',
        'experience_years': 'INTEGER', 'capacity': 'INTEGER', 'branch_id': 'VARCHAR'});

CREATE OR REPLACE TABLE products AS
SELECT product_id, name, category, variety, risk_level, horizon_months, min_investment,
       investor_requirement, annual_fee_rate, status, currency
FROM read_csv(getvariable('data_dir') || '/products.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'product_id': 'VARCHAR', 'name': 'VARCHAR', 'category': 'VARCHAR', 'variety': 'VARCHAR',
        'risk_level': 'VARCHAR', 'horizon_months': 'INTEGER', 'min_investment': 'DECIMAL(38,10)',
        'investor_requirement': 'VARCHAR', 'annual_fee_rate': 'DECIMAL(38,10)', 'status': 'VARCHAR',
        'currency': 'VARCHAR'});

CREATE OR REPLACE TABLE clients AS
SELECT client_id, kind, name, gender, birth_date, id_number, phone, email, occupation, city,
       branch_id, advisor_id, onboarded_at, household_id, annual_income, declared_financial_assets,
       declared_liabilities, net_assets, licensed_financial_institution, experience_years,
       payroll_employer_id, professional_status, material_change_at
FROM read_csv(getvariable('data_dir') || '/clients.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'client_id': 'VARCHAR', 'kind': 'VARCHAR', 'name': 'VARCHAR', 'gender': 'VARCHAR',
        'birth_date': 'DATE', 'id_number': 'VARCHAR', 'phone': 'VARCHAR', 'email': 'VARCHAR',
        'occupation': 'VARCHAR', 'city': 'VARCHAR', 'branch_id': 'VARCHAR', 'advisor_id': 'VARCHAR',
        'onboarded_at': 'DATE', 'household_id': 'VARCHAR', 'annual_income': 'DECIMAL(38,10)',
        'declared_financial_assets': 'DECIMAL(38,10)', 'declared_liabilities': 'DECIMAL(38,10)',
        'net_assets': 'DECIMAL(38,10)', 'licensed_financial_institution': 'BOOLEAN',
        'experience_years': 'INTEGER', 'payroll_employer_id': 'VARCHAR',
        'professional_status': 'VARCHAR', 'material_change_at': 'DATE'});

CREATE OR REPLACE TABLE holdings AS
SELECT client_id, product_id, market_value, as_of
FROM read_csv(getvariable('data_dir') || '/holdings.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'client_id': 'VARCHAR', 'product_id': 'VARCHAR', 'market_value': 'DECIMAL(38,10)',
        'as_of': 'DATE'});

CREATE OR REPLACE TABLE transactions AS
SELECT txn_id, client_id, product_id, ts, kind, amount, channel
FROM read_csv(getvariable('data_dir') || '/transactions.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'txn_id': 'VARCHAR', 'client_id': 'VARCHAR', 'product_id': 'VARCHAR', 'ts': 'TIMESTAMP',
        'kind': 'VARCHAR', 'amount': 'DECIMAL(38,10)', 'channel': 'VARCHAR'});

CREATE OR REPLACE TABLE assessments AS
SELECT client_id, assessed_at, channel, questionnaire_id, answers, risk_level, lowest,
       horizon_months, varieties, goal
FROM read_csv(getvariable('data_dir') || '/assessments.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'client_id': 'VARCHAR', 'assessed_at': 'TIMESTAMP', 'channel': 'VARCHAR',
        'questionnaire_id': 'VARCHAR', 'answers': 'VARCHAR', 'risk_level': 'VARCHAR',
        'lowest': 'BOOLEAN', 'horizon_months': 'INTEGER', 'varieties': 'VARCHAR', 'goal': 'VARCHAR'});

CREATE OR REPLACE TABLE interactions AS
SELECT client_id, advisor_id, "at", channel, topic, outcome
FROM read_csv(getvariable('data_dir') || '/interactions.csv',
    header = true, delim = ',', quote = '"', escape = '"',
    types = {
        'client_id': 'VARCHAR', 'advisor_id': 'VARCHAR', 'at': 'TIMESTAMP', 'channel': 'VARCHAR',
        'topic': 'VARCHAR', 'outcome': 'VARCHAR'});
