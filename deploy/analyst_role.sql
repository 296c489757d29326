-- A read-only PostgreSQL role for analysts of the tokenreview ledger.
--
-- Run it as the ledger's owner, connected to the ledger database with the ledger's
-- schema first on the search_path (psql "$LEDGER_URL_WITHOUT_DRIVER" -f analyst_role.sql),
-- after every `tokenreview db upgrade` (a new revision can add a published table):
--
--   * creates the group role tokenreview_analyst (NOLOGIN) when it does not exist;
--   * grants it USAGE on the ledger's schema and SELECT on the tables analysts read:
--     the published tables, the pricing snapshots and fetches, and the publication log;
--   * grants nothing else: no INSERT, UPDATE, DELETE, TRUNCATE, no CREATE on the schema,
--     no access to staging (stg_*), intermediate (int_*), build (_build_*) or lease
--     tables, which hold a run's unpublished rows.
--
-- Analysts log in as their own roles, made members of the group:
--   CREATE ROLE some_analyst LOGIN PASSWORD '...' IN ROLE tokenreview_analyst;
-- (tests/test_deploy_analyst_role.py checks it reads and cannot write; the list of
-- tables below is checked against ledger.py there.)
DO $$
DECLARE
    ledger_schema text := current_schema();
    readable text[] := ARRAY[
        'request_attempts', 'quarantined_records', 'extraction_runs', 'review_packets',
        'focus_charges', 'budget_reviews', 'billing_reconciliation',
        'pricing_snapshots', 'pricing_snapshot_prices', 'pricing_fetches',
        'cycle_publications'
    ];
    name text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tokenreview_analyst') THEN
        CREATE ROLE tokenreview_analyst NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO tokenreview_analyst', ledger_schema);
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM tokenreview_analyst', ledger_schema);
    FOREACH name IN ARRAY readable LOOP
        EXECUTE format(
            'REVOKE ALL ON TABLE %I.%I FROM tokenreview_analyst', ledger_schema, name
        );
        EXECUTE format(
            'GRANT SELECT ON TABLE %I.%I TO tokenreview_analyst', ledger_schema, name
        );
    END LOOP;
END
$$;

-- A session of the role itself is read-only too (members keep their own settings).
ALTER ROLE tokenreview_analyst SET default_transaction_read_only = on;
