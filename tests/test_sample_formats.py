"""The format registry, the bundled format samples, ``demo --format``, an HTTP export in
another format, and ``explain``'s hidden gateway retries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from http_server import ExportServer
from scenario import CYCLE, rows, run, write_scenario

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cli import main
from tokenreview_pipeline.config import LOG_FORMATS, load_config
from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.explain import explain_workload, gateway_retry_lines
from tokenreview_pipeline.extract.formats import FORMATS
from tokenreview_pipeline.extract.request_log import open_request_log
from tokenreview_pipeline.sample.input_formats import FORMAT_NAMES, write_format_samples

SAMPLE_DIR = Path(__file__).parents[1] / "tokenreview_pipeline" / "sample"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".dagster" not in p.parts and p.name != "tokenreview.yaml"
    }


def test_every_config_format_has_a_reader():
    assert set(FORMATS) == set(LOG_FORMATS)
    assert set(FORMAT_NAMES) == set(LOG_FORMATS) - {"tokenreview"}


def test_bundled_format_samples_match_the_generator(tmp_path):
    write_format_samples(SAMPLE_DIR, tmp_path)
    assert _digest(tmp_path) == _digest(SAMPLE_DIR / "formats")
    for name in FORMAT_NAMES:  # each config reads its own format with the native rules
        config = load_config(SAMPLE_DIR / "formats" / name / "tokenreview.yaml")
        fresh = load_config(tmp_path / name / "tokenreview.yaml")
        assert config.request_logs.format == name
        rules = (SAMPLE_DIR / "allocation_rules.yaml").resolve()
        assert config.allocation_rules.resolve() == fresh.allocation_rules.resolve() == rules
        skip = {"path"}
        assert fresh.request_logs.model_dump(exclude=skip) == config.request_logs.model_dump(
            exclude=skip
        )


def test_demo_with_a_format_and_explain_of_hidden_gateway_retries(tmp_path, capsys):
    outdir = tmp_path / "demo"
    code = main(
        ["demo", "--format", "litellm_spendlogs", "--outdir", str(outdir), "--attempts", "400"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "(format litellm_spendlogs)" in out
    assert "formats/litellm_spendlogs/request_logs" in out
    engine = ledger.engine_for(f"sqlite:///{outdir / 'tokenreview.db'}")
    # the demo runs every complete cycle of the sample; look at the latest
    runs = max(
        rows(f"sqlite:///{outdir / 'tokenreview.db'}", "extraction_runs", cycle=None),
        key=lambda r: r["cycle_id"],
    )
    attempts = rows(
        f"sqlite:///{outdir / 'tokenreview.db'}", "request_attempts", cycle=runs["cycle_id"]
    )
    hidden = [a for a in attempts if a["gateway_retries"]]
    assert hidden and runs["source_location"].endswith("litellm_spendlogs/request_logs")
    target = hidden[0]
    expected = sum(
        a["gateway_retries"]
        for a in attempts
        if (a["workload_tag"], a["request_class"])
        == (target["workload_tag"], target["request_class"])
    )
    (line,) = gateway_retry_lines(
        engine, runs["cycle_id"], target["workload_tag"], target["request_class"]
    )
    assert f"hidden gateway retries: {expected} " in line and "inside the logged row" in line
    text = explain_workload(engine, runs["cycle_id"], target["workload_tag"])
    assert line in text


def test_an_http_export_in_another_format(tmp_path, db_url):
    rows_ = [
        {
            "request_id": f"chatcmpl-{n}",
            "call_type": "acompletion",
            "api_key": "key_a1",
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "startTime": f"2026-11-16T10:0{n}:00.000",
            "endTime": f"2026-11-16T10:0{n}:01.000",
            "model": "gpt-4o-mini",
            "metadata": json.dumps({"spend_logs_metadata": {"environment": "production"}}),
            "request_tags": ["team:search", "project:web"],
            "messages": [{"role": "user", "content": "a prompt"}],
            "status": "success",
        }
        for n in range(3)
    ]
    pages = {
        None: {"data": rows_[:2], "next_cursor": "p2"},
        "p2": {"data": rows_[2:] + rows_[:1], "next_cursor": None},
    }
    with ExportServer(pages) as server:
        config = write_scenario(
            tmp_path,
            [],
            extra_config={
                "request_logs": {"kind": "http", "url": server.url, "format": "litellm_spendlogs"}
            },
        )
        log = open_request_log(load_config(config), parse_cycle(CYCLE, "weekly"))
        assert [r.source_page for r in log.records] == [1, 1, 2, 2]
        run(config, db_url)
    (runs,) = rows(db_url, "extraction_runs")
    assert (runs["attempts_staged"], runs["exact_duplicates"]) == (3, 1)  # a page served twice
    (packet,) = rows(db_url, "review_packets")
    assert (packet["workload_tag"], packet["attempts"]) == ("search-web", 3)
