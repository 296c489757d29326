from scenario import attempt, rows, run, ts, write_scenario


def test_minimal_cycle(tmp_path, db_url):
    cfg = write_scenario(
        tmp_path,
        [
            attempt("a1", ts(10), prompt_fingerprint="fp1", client_retry_count=0, status_code=503),
            attempt("a2", ts(11), prompt_fingerprint="fp1", client_retry_count=1),
        ],
    )
    run(cfg, db_url)
    got = rows(db_url, "request_attempts", order_by=["attempt_id"])
    assert [r["retry_cause"] for r in got] == [None, "platform_response"]
    (packet,) = rows(db_url, "review_packets")
    assert packet["result"] == "pass" and packet["failed_requirements"] == "[]"
    # two gpt-4o-mini attempts of 100 + 50 tokens at 0.15 / 0.60 USD per 1M tokens
    assert abs(float(packet["est_cost_usd"]) - 2 * (100 * 0.15 + 50 * 0.60) / 1e6) < 1e-12


def test_psycopg3_url_runs_the_same_sql(tmp_path, request):
    """SPEC 3's example URL is postgresql+psycopg:// (psycopg 3, server-side binding)."""
    import sqlalchemy as sa
    from conftest import _pg_schema_url, _pg_url

    admin = request.getfixturevalue("pg_admin_engine")
    base = sa.engine.make_url(_pg_url()).set(drivername="postgresql+psycopg")
    schema, url = _pg_schema_url(admin, base.render_as_string(hide_password=False))
    try:
        test_minimal_cycle(tmp_path, url)
    finally:
        from tokenreview_pipeline import ledger

        ledger.engine_for(url).dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
