"""Billed usage (SPEC 2.9): the provider's own usage records, read from CSV and staged.

The folder ``billing.path`` holds CSV files exported from the provider's console:

* only the folder itself (not recursive); only regular files named ``*.csv`` (exact,
  lower-case extension); hidden files (names starting with ``.``) are skipped, as a
  shell glob would; files are read in sorted path order, comparing paths as bytes;
* UTF-8 (a BOM at the start is ignored); the first non-blank row is the header, its
  cells stripped of surrounding whitespace; it must name ``date``, ``model`` and
  ``cost_usd`` and may name ``prompt_tokens``, ``completion_tokens`` and ``requests``;
  other columns are ignored; a column named twice is an error; a file with no
  non-blank row holds no usage;
* each later non-blank row is one billed row: ``date`` is ``YYYY-MM-DD`` (the UTC day
  of use), ``model`` a non-empty name (matched exactly, as the estimate's models are),
  ``cost_usd`` an exact decimal >= 0 (``tokenreview_pipeline.money``); token and
  request cells are whole numbers >= 0, an empty cell (or a column the file lacks)
  is unknown (null). Cells are stripped of surrounding whitespace.

A malformed row -- a required cell missing or unparsable, a negative number, a row
whose cell count differs from the header's, a line that is not UTF-8 -- raises
``BillingError`` naming the file, the line and the column. Every row of every file is
checked, whatever its date: the export is the provider's record of the account, and a
broken one is fixed at its source before any cycle is reconciled with it.

:func:`stage_billed_usage` replaces a cycle's rows of ``stg_billed_usage`` with the
rows dated in the cycle (``cycle_start <= date < cycle_end``, the one place this rule
lives) in one transaction, streaming: an error leaves the previous rows untouched.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.errors import shown
from tokenreview_pipeline.isotime import parse_date
from tokenreview_pipeline.money import parse_usd

__all__ = [
    "COUNT_COLUMNS",
    "REQUIRED_COLUMNS",
    "BilledRow",
    "BillingError",
    "BillingStaged",
    "iter_billed_rows",
    "list_billing_files",
    "stage_billed_usage",
]

REQUIRED_COLUMNS = ("date", "model", "cost_usd")
#: Optional whole-number columns (SPEC 2.9).
COUNT_COLUMNS = ("prompt_tokens", "completion_tokens", "requests")

#: A line longer than this is not a usage row (a day's usage of one model is ~100 bytes).
MAX_LINE_BYTES = 64 * 1024
MAX_MODEL_CHARS = 512
#: Token and request counts are below this, so no sum can overflow a BIGINT.
MAX_COUNT = 10**15
BATCH_SIZE = 5000

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNT = re.compile(r"[0-9]+")
_BOM = b"\xef\xbb\xbf"
#: The column of an error about the whole row or the header.
ROW = "(row)"
HEADER = "(header)"


class BillingError(ValueError):
    """A malformed billing file: ``"{file}: line {line}: column {column}: {message}"``."""

    def __init__(self, file: str | os.PathLike[str], line: int, column: str, message: str):
        self.file = os.fspath(file)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(f"{self.file}: line {line}: column {column}: {message}")

    def __reduce__(self):
        return (type(self), (self.file, self.line, self.column, self.message))


@dataclass(frozen=True)
class BilledRow:
    source_file: str  # the file's name (files are read from one folder)
    source_line: int  # 1-based line the row starts on
    usage_date: date
    model: str
    cost_usd: Decimal
    prompt_tokens: int | None
    completion_tokens: int | None
    requests: int | None


@dataclass(frozen=True)
class BillingStaged:
    files: int
    rows_read: int
    rows_staged: int  # dated in the cycle
    rows_with_tokens: int  # of those staged, with both token cells


def list_billing_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The folder's billing files, in the order they are read."""
    folder = Path(folder)
    paths = [p for p in folder.iterdir() if p.name.endswith(".csv") and not p.name.startswith(".")]
    paths = [p for p in paths if p.is_file()]
    paths.sort(key=os.fsencode)
    return paths


# ----------------------------------------------------------------------- reading


class _Lines:
    """Decoded physical lines of a file for ``csv.reader``, counted."""

    def __init__(self, f: BinaryIO, path: Path):
        self._f, self._path = f, path
        self.line_no = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        chunk = self._f.readline(MAX_LINE_BYTES + 2)
        if not chunk:
            raise StopIteration
        self.line_no += 1
        if self.line_no == 1 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            raise BillingError(self._path, self.line_no, ROW, f"longer than {MAX_LINE_BYTES} bytes")
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BillingError(
                self._path, self.line_no, ROW, f"not valid UTF-8 (byte {exc.start + 1})"
            ) from None


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, cells) of every non-blank row of a CSV file."""
    with open(path, "rb") as f:
        lines = _Lines(f, path)
        reader = csv.reader(lines, strict=True)
        while True:
            start = lines.line_no + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise BillingError(path, start, ROW, f"not a CSV row ({exc})") from None
            if any(cell.strip() for cell in cells):
                yield start, [cell.strip() for cell in cells]


def _header(path: Path, line: int, cells: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(cells):
        if name in positions and name:
            raise BillingError(path, line, name, "named twice in the header")
        positions.setdefault(name, index)
    for name in REQUIRED_COLUMNS:
        if name not in positions:
            raise BillingError(
                path,
                line,
                name,
                f"missing from the header (required: {', '.join(REQUIRED_COLUMNS)}; "
                f"optional: {', '.join(COUNT_COLUMNS)})",
            )
    return positions


def _count(text: str) -> int:
    if text.startswith("-") and _COUNT.fullmatch(text[1:]):
        raise ValueError(f"a negative number {shown(text)}")
    if not _COUNT.fullmatch(text) or len(text) > 16 or int(text) >= MAX_COUNT:
        raise ValueError(f"expected a whole number >= 0 below 10^15, got {shown(text)}")
    return int(text)


def _usage_date(text: str) -> date:
    try:
        if _DATE.fullmatch(text):
            return parse_date(text)
    except ValueError:
        pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {shown(text)}")


def _model(text: str) -> str:
    if len(text) > MAX_MODEL_CHARS:
        raise ValueError(f"longer than {MAX_MODEL_CHARS} characters")
    return text


def _cost(text: str) -> Decimal:
    try:
        return parse_usd(text)
    except ValueError as exc:
        raise ValueError(f"expected an amount of USD >= 0, got {shown(text)} ({exc})") from None


_REQUIRED_PARSERS = {"date": _usage_date, "model": _model, "cost_usd": _cost}


def _cell(path: Path, line: int, column: str, text: str, parse):
    try:
        return parse(text)
    except ValueError as exc:
        raise BillingError(path, line, column, str(exc)) from None


def _billed_row(path: Path, line: int, cells: list[str], header: dict[str, int], width: int):
    if len(cells) != width:
        raise BillingError(
            path, line, ROW, f"{len(cells)} cell(s), but the header has {width} column(s)"
        )
    values: dict[str, object] = {}
    for name, parse in _REQUIRED_PARSERS.items():
        text = cells[header[name]]
        if not text:
            raise BillingError(path, line, name, "missing (an empty cell)")
        values[name] = _cell(path, line, name, text, parse)
    for name in COUNT_COLUMNS:
        text = cells[header[name]] if name in header else ""
        values[name] = _cell(path, line, name, text, _count) if text else None
    return BilledRow(
        source_file=path.name,
        source_line=line,
        usage_date=values["date"],
        model=values["model"],
        cost_usd=values["cost_usd"],
        prompt_tokens=values["prompt_tokens"],
        completion_tokens=values["completion_tokens"],
        requests=values["requests"],
    )


def iter_billed_rows(folder: str | os.PathLike[str]) -> Iterator[BilledRow]:
    """Every billed row of every file of ``folder``, in read order; raises
    ``BillingError`` at the first malformed row."""
    for path in list_billing_files(folder):
        rows = _rows(path)
        first = next(rows, None)
        if first is None:
            continue
        header = _header(path, *first)
        width = len(first[1])
        for line, cells in rows:
            yield _billed_row(path, line, cells, header, width)


# ----------------------------------------------------------------------- staging


def in_cycle(row: BilledRow, cycle: Cycle) -> bool:
    """A billed row reconciles with the cycle its UTC day of use lies in (SPEC 5)."""
    return cycle.start.date() <= row.usage_date < cycle.end.date()


def _staging_row(cycle: Cycle, row: BilledRow) -> dict[str, object]:
    return {
        "cycle_id": cycle.cycle_id,
        "source_file": row.source_file,
        "source_line": row.source_line,
        "usage_date": row.usage_date,
        "model": row.model,
        "cost_usd": row.cost_usd,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "requests": row.requests,
    }


def stage_billed_usage(
    engine: Engine, cycle: Cycle, folder: str | os.PathLike[str] | None
) -> BillingStaged:
    """Replace the cycle's ``stg_billed_usage`` rows with the folder's rows dated in the
    cycle, in one transaction (no folder: no rows). A ``BillingError`` rolls it back:
    nothing is partly loaded and the rows staged before stay."""
    table = ledger.stg_billed_usage
    files = list_billing_files(folder) if folder is not None else []
    read = staged = with_tokens = 0
    with engine.begin() as conn:
        conn.execute(sa.delete(table).where(table.c.cycle_id == cycle.cycle_id))
        batch: list[dict[str, object]] = []
        for row in iter_billed_rows(folder) if folder is not None else ():
            read += 1
            if not in_cycle(row, cycle):
                continue
            staged += 1
            with_tokens += row.prompt_tokens is not None and row.completion_tokens is not None
            batch.append(_staging_row(cycle, row))
            if len(batch) >= BATCH_SIZE:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
    return BillingStaged(len(files), read, staged, with_tokens)
