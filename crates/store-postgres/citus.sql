-- Tierwise on Citus: distributes the schema by client_id. Optional; see
-- docs/scale-out.md for when and why, and for what stays local.
--
-- Run it once on the coordinator, after `tierwise migrate`, in the schema
-- Tierwise uses (the one its URL's search_path names, public by default):
--
--   TIERWISE_DB=postgres://tierwise@coordinator:5432/bank tierwise migrate
--   psql postgres://tierwise@coordinator:5432/bank -X -v ON_ERROR_STOP=1 -f crates/store-postgres/citus.sql
--
-- Needs the citus extension on the coordinator and every worker (as an
-- administrator: shared_preload_libraries = 'citus', CREATE EXTENSION citus,
-- citus_set_coordinator_host / citus_add_node). Tables that already hold rows
-- are copied to their shards (Citus says so in a NOTICE). Every statement is
-- skipped for a table that is already a Citus table, so the script may be run
-- again, e.g. after a later migration added a table here.
--
-- Shard count: citus.shard_count (32 by default); to choose another, set it in
-- the same session before the first create_distributed_table, e.g.
--   psql … -c 'SET citus.shard_count = 64' -f crates/store-postgres/citus.sql

\set ON_ERROR_STOP 1

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'the citus extension is not installed in this database'
            USING HINT = 'CREATE EXTENSION citus (after adding it to shared_preload_libraries), then run this script again';
    END IF;
    IF to_regclass('clients') IS NULL THEN
        RAISE EXCEPTION 'no Tierwise schema in search_path %', current_setting('search_path')
            USING HINT = 'run `tierwise migrate` with the same URL first';
    END IF;
END;
$$;

-- Reference tables: small, read by every shard's queries, replicated to
-- every node. products and advisors are the catalogue the book refers to;
-- rule_packs the pack text of every version a run used; classification_runs
-- one row per run, joined with the distributed results by the export.
SELECT create_reference_table('advisors')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'advisors'::regclass);
SELECT create_reference_table('products')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'products'::regclass);
SELECT create_reference_table('rule_packs')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'rule_packs'::regclass);
SELECT create_reference_table('classification_runs')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'classification_runs'::regclass);

-- The book and the results, distributed by client_id and colocated with
-- clients: every row of one client, in every table, lives in the same shard
-- group on the same worker, so a client's reads, upserts and joins on
-- client_id stay on one node. Every one of these tables has client_id in its
-- primary key, of the same type and collation (TEXT COLLATE "C").
SELECT create_distributed_table('clients', 'client_id')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'clients'::regclass);
SELECT create_distributed_table('holdings', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'holdings'::regclass);
SELECT create_distributed_table('transactions', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'transactions'::regclass);
SELECT create_distributed_table('assessments', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'assessments'::regclass);
SELECT create_distributed_table('interactions', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'interactions'::regclass);
SELECT create_distributed_table('classifications', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'classifications'::regclass);
SELECT create_distributed_table('value_deciles', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'value_deciles'::regclass);
SELECT create_distributed_table('explanations', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'explanations'::regclass);
SELECT create_distributed_table('suitability_checks', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'suitability_checks'::regclass);

-- sales (schema version 2): a check's sale, distributed with the check and
-- its client, so the checks page joins checks and sales shard by shard (on
-- client_id and check_id). Citus enforces a primary key or UNIQUE constraint
-- only when it includes the distribution column, so the migration's keys,
-- (sale_id) and one sale per (check_id), become (client_id, sale_id) and
-- (client_id, check_id) first. One sale per check still holds: a check has
-- one client, and the store records a sale only under its check's client.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sales'::regclass) THEN
        ALTER TABLE sales DROP CONSTRAINT sales_pkey,
                          ADD CONSTRAINT sales_pkey PRIMARY KEY (client_id, sale_id);
        ALTER TABLE sales DROP CONSTRAINT sales_one_per_check,
                          ADD CONSTRAINT sales_one_per_check UNIQUE (client_id, check_id);
        DROP INDEX sales_by_client; -- the new primary key's prefix
    END IF;
END;
$$;
SELECT create_distributed_table('sales', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'sales'::regclass);

-- tasks and notices (schema version 4): monitoring's work on one client each.
-- client_id is in their primary keys, (client_id, task_id) and (client_id,
-- notice_id), and in every unique index (one per (kind, client_id, episode);
-- one open task per (kind, client_id)), so they distribute as they are: the
-- `INSERT … ON CONFLICT DO NOTHING` that deduplicates a sweep's rows is decided
-- in one shard, and the outbox's scoped list joins clients shard by shard.
-- Their ids are BIGINT identities, as suitability_checks' (Citus 11.2 or
-- later); a lookup by id alone (tasks_by_id, notices_by_id) asks every shard.
SELECT create_distributed_table('tasks', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'tasks'::regclass);
SELECT create_distributed_table('notices', 'client_id', colocate_with => 'clients')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'notices'::regclass);

-- Left local on the coordinator, on purpose:
--   audit_events       append-only (its triggers refuse UPDATE, DELETE and
--                      TRUNCATE), one global order (seq), no client_id, never
--                      joined with client data; each write stays on one node.
--   audit_head         the chain's one head row, locked by every append
--                      (FOR UPDATE) in the writer's transaction: next to
--                      audit_events, on the node that numbers the events.
--   users, sessions,   the desk's staff, logins and questionnaire links:
--   one_time_links     small, read by username or token, never joined with
--                      client data. A reference table would write every
--                      login, logout and expiry sweep to every node; a link
--                      distributed by its client_id would be looked up by
--                      token on every shard.
--   run_counts,        the dashboards' counts per run: sums across clients
--   run_counts_done    (no client_id to distribute by), computed once per
--                      run by an INSERT … SELECT … GROUP BY that Citus runs
--                      on the shards and gathers here, adjusted by a
--                      reclassification in the same transaction as its
--                      result's shard, and read only here (no query joins
--                      them with shards, so nothing gains by a copy on every
--                      node).
--   alerts             (schema version 4) an alert's subject is a client or an
--                      advisor: an advisor's alert has no client_id (NULL),
--                      which no distribution column may be, and its keys (one
--                      per (kind, subject, episode), one open per (kind,
--                      subject)) do not contain client_id, so Citus could not
--                      enforce them on a distributed table. A reference table
--                      would write every sweep's alerts to every node. Never
--                      joined with client rows: the workbench reads it alone,
--                      by assignment and severity; a reassignment updates it
--                      in the same transaction as the client's row.
--   surveys            (schema version 4) looked up by the token's hash from
--                      the client's link, as one_time_links are (distributed
--                      by client_id, each lookup would ask every shard); small.
--   advisor_books,     (schema version 4) each advisor's clients and AUM per
--   advisor_books_done run: one row per advisor and run, computed once by an
--                      INSERT … SELECT … GROUP BY over the shards and read only
--                      here, as run_counts.
--   schema_migrations  Tierwise's own bookkeeping.

-- What became of each table:
SELECT c.relname AS "table",
       CASE p.partmethod WHEN 'h' THEN 'distributed by client_id' WHEN 'n' THEN 'reference' ELSE 'local' END AS citus
FROM pg_class c
JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = current_schema()
LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
WHERE c.relkind IN ('r', 'p')
ORDER BY 2, 1;
