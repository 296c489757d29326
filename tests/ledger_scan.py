"""Scan every text column of every ledger table for what must never be stored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from tokenreview_pipeline import contract, ledger

# Python's own ``re`` with the SPEC's patterns: independent of the extractor's matcher.
SECRET_RE = re.compile(contract.SECRET_REGEX)
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
CONTENT = frozenset(contract.CONTENT_FIELDS)
_CONTENT_KEYS = tuple(f'"{name}":' for name in contract.CONTENT_FIELDS)


def text_values(db_url: str) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) of every string stored in every ledger table."""
    engine = ledger.engine_for(db_url)
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        for name, table in ledger.metadata.tables.items():
            if name not in existing:
                continue
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, str):
                        yield name, column, value


#: Columns holding JSON (or JSON-like raw text) whose keys must not be content fields.
KEYED_COLUMNS = frozenset({"tags", "raw_redacted"})


def problems_of(value: str, planted: Iterable[str] = (), *, keyed: bool = False) -> list[str]:
    """What is wrong with one stored string: a secret, an unstorable character, a
    planted text; and in JSON text (``keyed``), a content field name as a key."""
    found = [f"secret {m.group(0)!r}" for m in SECRET_RE.finditer(value)]
    if _UNSTORABLE_RE.search(value):
        found.append("NUL or lone surrogate")
    found += [f"planted {p!r}" for p in planted if p in value]
    if keyed:
        lowered = value.lower()
        found += [f"content key {k}" for k in _CONTENT_KEYS if k in lowered]
    return found


def leaks(db_url: str, planted: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """(table, column, problem) for every stored string that holds what it must not."""
    planted = tuple(planted)
    out = []
    for table, column, value in text_values(db_url):
        keyed = column in KEYED_COLUMNS
        out += [(table, column, p) for p in problems_of(value, planted, keyed=keyed)]
        if column == "tags" and value.startswith("{"):
            keys = json.loads(value)
            out += [(table, column, f"tag key {k!r}") for k in keys if k.lower() in CONTENT]
    return out
