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
    packets = rows(db_url, "review_packets")
    assert len(packets) == 1
