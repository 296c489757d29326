"""Billed-usage CSV files (SPEC 2.9): which files are read and in what order, the header,
every cell, exact money, and every malformed row named by file, line and column; staging
keeps the rows dated in the cycle and loads nothing when a row is malformed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tokenreview_pipeline import ledger
from tokenreview_pipeline.billing import (
    BilledRow,
    BillingError,
    iter_billed_rows,
    list_billing_files,
    stage_billed_usage,
)
from tokenreview_pipeline.cycles import parse_cycle

CYCLE = parse_cycle("2026-11-16", "weekly")


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def test_only_csv_files_of_the_folder_in_byte_order(tmp_path):
    folder = tmp_path / "billing"
    for name in ("b.csv", "B.csv", "a.csv", ".hidden.csv", "notes.txt", "c.CSV", "d.csv.bak"):
        write(folder, name, "date,model,cost_usd\n")
    (folder / "sub.csv").mkdir()
    write(folder / "sub.csv", "inner.csv", "date,model,cost_usd\n")
    assert [p.name for p in list_billing_files(folder)] == ["B.csv", "a.csv", "b.csv"]


def test_rows_with_and_without_optional_columns(tmp_path):
    folder = tmp_path / "billing"
    write(
        folder,
        "1-usage.csv",
        "\ufeffdate, model ,prompt_tokens,completion_tokens,requests,cost_usd,project\r\n"
        "2026-11-16,gpt-4o-mini,1000,500,10,0.000450000000000001,web\r\n"
        "\r\n"
        " 2026-11-17 ,gpt-4o,,20,,1e-7,\r\n"
        ",,,,,,\r\n"
        '2026-11-18,"model, with a comma",0,0,0,0,"multi\nline"\r\n',
    )
    write(folder, "2-costs.csv", "cost_usd,model,date\n12.50,whisper-1,2026-11-20\n")
    write(folder, "3-empty.csv", "\n\n")
    assert list(iter_billed_rows(folder)) == [
        BilledRow(
            "1-usage.csv",
            2,
            date(2026, 11, 16),
            "gpt-4o-mini",
            Decimal("0.000450000000000001"),
            1000,
            500,
            10,
        ),
        BilledRow("1-usage.csv", 4, date(2026, 11, 17), "gpt-4o", Decimal("1E-7"), None, 20, None),
        BilledRow("1-usage.csv", 6, date(2026, 11, 18), "model, with a comma", Decimal(0), 0, 0, 0),
        BilledRow(
            "2-costs.csv", 2, date(2026, 11, 20), "whisper-1", Decimal("12.50"), None, None, None
        ),
    ]


HEADER = "date,model,prompt_tokens,completion_tokens,requests,cost_usd\n"
GOOD = "2026-11-16,gpt-4o-mini,1,2,3,0.5\n"


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            "model,cost_usd\n",
            1,
            "date",
            "missing from the header (required: date, model, "
            "cost_usd; optional: prompt_tokens, completion_tokens, requests)",
        ),
        ("\n\ndate,model,model,cost_usd\n", 3, "model", "named twice in the header"),
        (HEADER + GOOD + ",gpt-4o-mini,1,2,3,0.5\n", 3, "date", "missing (an empty cell)"),
        (HEADER + "2026-11-16,,1,2,3,0.5\n", 2, "model", "missing (an empty cell)"),
        (HEADER + "2026-11-16,gpt-4o-mini,1,2,3,\n", 2, "cost_usd", "missing (an empty cell)"),
        (
            HEADER + "2026/11/16,m,1,2,3,0.5\n",
            2,
            "date",
            "expected a date YYYY-MM-DD, got '2026/11/16'",
        ),
        (
            HEADER + "2026-02-30,m,1,2,3,0.5\n",
            2,
            "date",
            "expected a date YYYY-MM-DD, got '2026-02-30'",
        ),
        (
            HEADER + "20261116,m,1,2,3,0.5\n",
            2,
            "date",
            "expected a date YYYY-MM-DD, got '20261116'",
        ),
        (
            HEADER + "2026-11-16,m,1,2,3,$0.50\n",
            2,
            "cost_usd",
            "expected an amount of USD >= 0, got '$0.50' (not a decimal number)",
        ),
        (
            HEADER + "2026-11-16,m,1,2,3,-0.01\n",
            2,
            "cost_usd",
            "expected an amount of USD >= 0, got '-0.01' (a negative number)",
        ),
        (
            HEADER + "2026-11-16,m,1,2,3,NaN\n",
            2,
            "cost_usd",
            "expected an amount of USD >= 0, got 'NaN' (not a finite number)",
        ),
        (HEADER + "2026-11-16,m,-5,2,3,0.5\n", 2, "prompt_tokens", "a negative number '-5'"),
        (
            HEADER + "2026-11-16,m,1,2.0,3,0.5\n",
            2,
            "completion_tokens",
            "expected a whole number >= 0 below 10^15, got '2.0'",
        ),
        (HEADER + "2026-11-16,m,1,2,-1,0.5\n", 2, "requests", "a negative number '-1'"),
        (
            HEADER + "2026-11-16,m,1,2,3,0.5,extra\n",
            2,
            "(row)",
            "7 cell(s), but the header has 6 column(s)",
        ),
        (HEADER + "2026-11-16,m,1,2\n", 2, "(row)", "4 cell(s), but the header has 6 column(s)"),
        (
            HEADER + GOOD + '2026-11-16,"m,1,2,3,0.5\n',
            3,
            "(row)",
            "not a CSV row (unexpected end of data)",
        ),
    ],
)
def test_malformed_rows_name_file_line_and_column(tmp_path, text, line, column, message):
    path = write(tmp_path / "billing", "usage.csv", text)
    with pytest.raises(BillingError) as err:
        list(iter_billed_rows(tmp_path / "billing"))
    assert (err.value.file, err.value.line, err.value.column, err.value.message) == (
        str(path),
        line,
        column,
        message,
    )
    assert str(err.value) == f"{path}: line {line}: column {column}: {message}"


def test_invalid_utf8_and_overlong_lines_are_malformed_rows(tmp_path):
    folder = tmp_path / "billing"
    path = write(folder, "usage.csv", (HEADER + GOOD).encode() + b"2026-11-16,caf\xe9,1,2,3,0.5\n")
    with pytest.raises(BillingError, match=r"line 3: column \(row\): not valid UTF-8") as err:
        list(iter_billed_rows(folder))
    assert err.value.file == str(path)
    write(folder, "usage.csv", HEADER + "2026-11-16," + "m" * 70_000 + ",1,2,3,0.5\n")
    with pytest.raises(BillingError, match=r"line 2: column \(row\): longer than 65536 bytes"):
        list(iter_billed_rows(folder))


def test_a_malformed_row_anywhere_fails_whatever_its_date(tmp_path):
    folder = tmp_path / "billing"
    write(folder, "a.csv", HEADER + GOOD)
    write(folder, "b.csv", HEADER + "2025-01-06,m,1,2,3,-1\n")  # a year before the cycle
    with pytest.raises(BillingError, match=r"b\.csv: line 2: column cost_usd"):
        list(iter_billed_rows(folder))


# ------------------------------------------------------------------------ staging


def staged(engine) -> list[dict]:
    t = ledger.stg_billed_usage
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.source_file, t.c.source_line)).mappings()
        return [dict(r) for r in rows]


def test_staging_keeps_the_rows_dated_in_the_cycle_and_loads_nothing_on_error(tmp_path, db_url):
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)
    folder = tmp_path / "billing"
    write(
        folder,
        "usage.csv",
        HEADER
        + "2026-11-15,m,1,1,1,0.1\n"  # previous cycle
        + "2026-11-16,m,1,2,3,0.000000000000000001\n"  # the cycle's first day
        + "2026-11-22,m,,5,,123456789.123456789\n"  # its last day
        + "2026-11-23,m,1,1,1,0.1\n",  # the next cycle's first day
    )
    result = stage_billed_usage(engine, CYCLE, folder)
    assert (result.files, result.rows_read, result.rows_staged, result.rows_with_tokens) == (
        1,
        4,
        2,
        1,
    )
    rows = staged(engine)
    assert [(r["source_file"], r["source_line"], r["usage_date"]) for r in rows] == [
        ("usage.csv", 3, date(2026, 11, 16)),
        ("usage.csv", 4, date(2026, 11, 22)),
    ]
    assert [(r["prompt_tokens"], r["completion_tokens"], r["requests"]) for r in rows] == [
        (1, 2, 3),
        (None, 5, None),
    ]
    if engine.dialect.name == "postgresql":  # NUMERIC: stored exactly
        assert [r["cost_usd"] for r in rows] == [
            Decimal("0.000000000000000001"),
            Decimal("123456789.123456789"),
        ]
    assert {r["cycle_id"] for r in rows} == {CYCLE.cycle_id}

    # A malformed row in a later file: the transaction rolls back, the rows stay.
    write(folder, "usage2.csv", HEADER + GOOD + "2026-11-17,m,1,2,3,oops\n")
    with pytest.raises(BillingError, match=r"usage2\.csv: line 3: column cost_usd"):
        stage_billed_usage(engine, CYCLE, folder)
    assert staged(engine) == rows

    # Other cycles' rows are not touched; no folder (billing not configured): no rows.
    other = parse_cycle("2026-11-09", "weekly")
    (folder / "usage2.csv").unlink()
    assert stage_billed_usage(engine, other, folder).rows_staged == 1
    assert stage_billed_usage(engine, CYCLE, None).rows_staged == 0
    assert [r["cycle_id"] for r in staged(engine)] == [other.cycle_id]
