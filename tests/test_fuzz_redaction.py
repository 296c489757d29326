"""Property tests of SPEC 2.5 redaction: the extractor's linear-time matcher finds
exactly what Python's ``re`` finds with the SPEC patterns (leftmost first, never
overlapping), redaction leaves no secret whatever the text, escapes are decoded, and
the SQL ``has_secret()`` macro agrees with both on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tokenreview_pipeline import contract, ledger
from tokenreview_pipeline.extract.redaction import (
    _spans,
    has_secret,
    may_hold_secret,
    redact_text,
    redact_value,
    redacted_form,
    storable,
)
from tokenreview_pipeline.sql_templates import render

SPEC_RE = re.compile(contract.SECRET_REGEX)
FUZZ = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Characters and pieces around the patterns' edges: starts, class members, separators.
ALPHABET = st.sampled_from(list('skBearJyeA0_-. ~+/=:\t\n"\\é') + ["\x00", "\ud800"])
PIECES = st.sampled_from(
    ["sk-", "Bearer ", "eyJ", "eyJa.b.c", "sk-" + "a" * 20, "x", "risk-", "_eyJ", "\\u006F"]
)
TEXT = st.lists(ALPHABET | PIECES, max_size=40).map("".join)


def escaped(text: str, flags: list[bool]) -> str:
    """``text`` as JSON string content, some characters written as \\uXXXX escapes."""
    out = []
    for i, c in enumerate(text):
        if c in '"\\' or ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or flags[i % len(flags)]:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


def json_decoded(text: str) -> str:
    return json.loads('"' + text + '"')


@FUZZ
@given(TEXT)
def test_matcher_finds_what_re_finds(text: str) -> None:
    assert list(_spans(text)) == [m.span() for m in SPEC_RE.finditer(text)]
    assert has_secret(text) == (SPEC_RE.search(text) is not None)


@FUZZ
@given(TEXT)
def test_may_hold_secret_is_never_false_for_a_secret(text: str) -> None:
    if SPEC_RE.search(text):
        assert may_hold_secret(text)


@FUZZ
@given(st.lists(TEXT | st.none() | st.integers() | st.floats(allow_nan=False), max_size=8))
@example(["risk", "sk-" + "a" * 20])  # a value ending in a letter before a secret
@example([7, None, "Bearer abcdefghijklmnopqrstu"])
def test_a_rows_secret_test_equals_testing_each_value(values) -> None:
    # ledger._any_secret (SQLite's has_secret()) searches a row's values joined first
    expected = any(isinstance(v, str) and SPEC_RE.search(v) for v in values)
    assert ledger._any_secret(*values) == int(bool(expected))


@FUZZ
@given(TEXT)
def test_redact_value_leaves_no_secret(text: str) -> None:
    new, changed = redact_value(text)
    assert SPEC_RE.search(new) is None
    assert changed == (SPEC_RE.search(text) is not None)
    assert new == storable(new)
    once = SPEC_RE.sub(lambda m: redacted_form(m.group(0)), storable(text))
    if SPEC_RE.search(once) is None:  # one pass was enough: exactly the SPEC's replacement
        assert new == once


@FUZZ
@given(TEXT, st.lists(st.booleans(), min_size=1, max_size=8))
def test_redact_text_decodes_escapes(text: str, flags: list[bool]) -> None:
    written = escaped(text, flags)
    new, count = redact_text(written)
    assert SPEC_RE.search(json_decoded(new)) is None  # clean once decoded
    assert SPEC_RE.search(new) is None  # and clean as written (what SQL checks scan)
    if SPEC_RE.search(json_decoded(written)) is None:
        assert (new, count) == (written, 0)  # nothing else of the text changes
    else:
        assert count > 0
    if "\\" not in written:
        assert (new, count > 0) == redact_value(written)


def test_a_secret_written_with_escapes_is_one_secret() -> None:
    secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"
    text = '"note": "x ' + secret.replace("o", "\\u006f") + '", "ok": "\\u00e9"'
    assert redact_text(text) == (f'"note": "x {redacted_form(secret)}", "ok": "\\u00e9"', 1)
    # a surrogate pair is one character; a lone escaped surrogate breaks nothing
    assert redact_text("\\ud83d\\ude00Bearer x") == (
        "\\ud83d\\ude00" + redacted_form("Bearer x"),
        1,
    )
    assert redact_text("\\ud800sk-" + "a" * 20) == ("\\ud800" + redacted_form("sk-" + "a" * 20), 1)


HOSTILE_SHAPES = {
    "eyJ- (quadratic for a backtracking matcher: no dot ever follows)": "eyJ-" * 262_144,
    "eyJ- then one dot": "eyJ-" * 262_144 + ".x",
    "sk-_": "sk-_" * 262_144,
    "Bearer": "Bearer " * 150_000,
    "eyJa.": "eyJa." * 200_000,
    "joined by replacement": "sk-abcdefghij_eyJa.b.c " * 40_000,
}


@pytest.mark.parametrize("text", HOSTILE_SHAPES.values(), ids=HOSTILE_SHAPES.keys())
def test_hostile_shapes_of_one_mebibyte(text: str) -> None:
    new, _ = redact_value(text)
    assert not has_secret(new)
    # Python's re agrees on a slice small enough for it
    head = text[:4096]
    assert has_secret(head) == (SPEC_RE.search(head) is not None)


@settings(FUZZ, max_examples=150)
@given(st.lists(TEXT.map(storable) | st.none(), min_size=1, max_size=3))
def test_sql_has_secret_agrees_with_python(db_url, values) -> None:
    engine = ledger.engine_for(db_url)
    names = [f":v{i}" for i in range(len(values))]
    macro = "{{ has_secret(" + ", ".join(repr(n) for n in names) + ") }}"
    sql = render(f"SELECT {macro} AS found", engine.dialect.name)
    with engine.connect() as conn:
        found = conn.execute(sa.text(sql), {f"v{i}": v for i, v in enumerate(values)}).scalar_one()
    assert bool(found) == any(v is not None and SPEC_RE.search(v) for v in values)
