"""Command line: packets ordering, explain, generate, and errors that name the problem."""

import json

from scenario import CYCLE, attempt, run, ts, write_scenario

from tokenreview_pipeline.cli import main

RULES = [
    {
        "id": "by-workload",
        "match": {},
        "assign": {"owner_tag": "team-{tags.team}", "workload_tag": "{tags.workload}"},
    }
]


def test_packets_json_order_is_code_point_order_on_every_backend(tmp_path, db_url, capsys):
    workloads = ["beta_x", "alpha", "Zeta", "beta-x"]
    cfg = write_scenario(
        tmp_path,
        [
            attempt(f"a{i}", ts(i), tags={"team": "t", "workload": w})
            for i, w in enumerate(workloads)
        ],
        rules=RULES,
    )
    run(cfg, db_url)
    capsys.readouterr()
    code = main(
        [
            "packets",
            "--config",
            str(cfg),
            "--cycle",
            CYCLE,
            "--format",
            "json",
            "--database-url",
            db_url,
        ]
    )
    assert code == 0
    packets = json.loads(capsys.readouterr().out)
    assert [p["workload_tag"] for p in packets] == ["Zeta", "alpha", "beta-x", "beta_x"]


def test_explain_lists_missing_evidence_and_models(tmp_path, db_url, capsys):
    cfg = write_scenario(
        tmp_path,
        [
            attempt(
                "e1",
                ts(1),
                model="mystery-model",
                tags={"team": "t", "workload": "w1"},
                client_retry_count=2,
            ),
        ],
        rules=RULES,
    )
    run(cfg, db_url)
    capsys.readouterr()
    assert (
        main(
            [
                "explain",
                "--config",
                str(cfg),
                "--cycle",
                CYCLE,
                "--workload",
                "w1",
                "--database-url",
                db_url,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Workload w1" in out and "FAIL" in out
    assert "mystery-model: 1 attempts (1 retries)" in out
    assert "cost unknown (model not priced)" in out
    assert "- retry_count_recorded: 1 orphan" in out
    assert (
        main(
            [
                "explain",
                "--config",
                str(cfg),
                "--cycle",
                CYCLE,
                "--workload",
                "nope",
                "--database-url",
                db_url,
            ]
        )
        == 2  # SPEC 7: an unknown workload exits 2, listing the ones the cycle has
    )
    assert "Workloads in this cycle: w1" in capsys.readouterr().err


def test_generate_and_config_errors_exit_2_with_a_message(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "g"), "--attempts", "50", "--cycle", "2026-11-17"]) == 2
    assert "2026-11-16" in capsys.readouterr().err  # the nearest Monday
    bad = tmp_path / "bad.yaml"
    bad.write_text("cadence: weekly\nrequest_log: {}\n")
    assert main(["packets", "--config", str(bad), "--cycle", CYCLE]) == 2
    err = capsys.readouterr().err
    assert str(bad.resolve()) in err and "request_log" in err


def test_backfill_runs_each_cycle_once_oldest_first(tmp_path, db_url, capsys, monkeypatch):
    import dagster as dg
    from scenario import rows

    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    cfg = write_scenario(
        tmp_path,
        [
            attempt("w1", ts(60, day=-7)),  # cycle 2026-11-09
            attempt("w2", ts(60)),  # cycle 2026-11-16
        ],
    )
    code = main(
        [
            "backfill",
            "--config",
            str(cfg),
            "--from",
            "2026-11-10",
            "--to",
            "2026-11-20",
            "--database-url",
            db_url,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 of 2 cycle(s) succeeded" in out
    assert out.index("cycle 2026-11-09:") < out.index("cycle 2026-11-16:")
    assert [r["attempt_id"] for r in rows(db_url, "request_attempts", cycle="2026-11-09")] == ["w1"]
    assert [r["attempt_id"] for r in rows(db_url, "request_attempts", cycle="2026-11-16")] == ["w2"]
    instance = dg.DagsterInstance.get()
    runs = instance.get_runs()
    assert sorted(r.tags["dagster/partition"] for r in runs) == ["2026-11-09", "2026-11-16"]
    assert len({r.tags["tokenreview/backfill"] for r in runs}) == 1
    instance.dispose()
    assert (
        main(
            [
                "backfill",
                "--config",
                str(cfg),
                "--from",
                "2026-11-20",
                "--to",
                "2026-11-10",
                "--database-url",
                db_url,
            ]
        )
        == 2
    )
