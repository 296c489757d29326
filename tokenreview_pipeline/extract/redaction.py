"""SPEC 2.5: find and replace secrets, and make strings storable. Pure functions.

A secret is a match of one of ``contract.SECRET_PATTERNS`` that does not start right
after an ASCII letter or digit. Matches are taken leftmost first, never overlapping,
and each is replaced in place by ``redacted_`` + the first 12 hex characters of the
SHA-256 of its text, whether it is the whole value or inside a longer one.

Decisions:

* **Linear time.** Python's backtracking ``re`` needs quadratic time for the JWT
  pattern on hostile text (``eyJ-eyJ-eyJ-...`` without dots: one scan of the rest of
  the run per ``eyJ``; 64 KiB take over a second, 1 MiB minutes). The scanner here
  reads the contract's patterns (a literal, then runs of a character class, each
  followed by a literal that cannot continue the run) and matches them greedily with
  the runs memoized, which is the same leftmost, non-overlapping result in linear
  time. ``tests/test_fuzz_redaction.py`` checks it against ``re`` with
  ``contract.SECRET_REGEX``.
* **Until none is left.** Replacing a match can join what surrounds it into a new
  match (``sk-abcdefghij_eyJa.b.c``: the JWT is replaced, and the ``sk-`` run is then
  long enough). Redaction repeats until the text holds no match, so no stored string
  ever does. It ends: replacements never contain a pattern's first literal, so each
  pass consumes at least one of the finitely many. Real values take one pass.
* **Escapes.** :func:`redact_text` is for text that may hold JSON escapes (the raw
  text of a line that did not parse, an HTTP error body): it scans the text with its
  escapes decoded (``sk-pr\\u006Fj-...`` is a secret) and replaces the source span of
  each match, so the rest of the text keeps its own spelling. A text clean once
  decoded is clean as written (an escape ends in a letter, a digit, ``"``, ``\\`` or
  ``/``, never adding a match), so the blocking checks, which scan stored text as
  written, agree.
* **Storable.** A NUL character or a lone surrogate cannot be stored (PostgreSQL text
  has no NUL; neither backend takes a lone surrogate): :func:`storable` replaces each
  by U+FFFD. Neither can be part of a secret, so the order of the two steps does not
  matter.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from tokenreview_pipeline import contract

__all__ = [
    "REDACTED_PREFIX",
    "has_secret",
    "redact_text",
    "redact_value",
    "redacted_form",
    "storable",
]

REDACTED_PREFIX = "redacted_"

_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with every NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE_RE.sub("\ufffd", text)


def redacted_form(secret: str) -> str:
    """``redacted_`` + the first 12 hex characters of the SHA-256 of ``secret``."""
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
    return REDACTED_PREFIX + digest[:12]


# ------------------------------------------------------------ the linear scanner

_PART_RE = re.compile(r"\[([^\]]+)\](?:(\*)|(\+)|\{(\d+),\})|\\(.)|([^\\\[\](){}*+?|^$.]+)")


@dataclass(frozen=True)
class _Step:
    run: re.Pattern[str]  # the run's character class, as `[...]*`
    minimum: int
    literal: str  # what must follow the run ("" for the last run)


@dataclass(frozen=True)
class _Pattern:
    prefix: str
    steps: tuple[_Step, ...]


def _compile(pattern: str) -> _Pattern:
    """Read a SPEC secret pattern: a literal, then runs of a class each followed by a
    literal that cannot continue it (so the greedy run is the only one that can match)."""
    items: list[tuple[str, object]] = []
    pos = 0
    while pos < len(pattern):
        m = _PART_RE.match(pattern, pos)
        if m is None:
            raise ValueError(f"secret pattern {pattern!r}: unsupported syntax at {pos}")
        pos = m.end()
        cls, star, plus, at_least, escaped, plain = m.groups()
        if cls is not None:
            minimum = 0 if star else 1 if plus else int(at_least)
            items.append(("run", (cls, minimum)))
        else:
            text = escaped if escaped is not None else plain
            if items and items[-1][0] == "lit":
                items[-1] = ("lit", items[-1][1] + text)  # type: ignore[operator]
            else:
                items.append(("lit", text))
    if not items or items[0][0] != "lit":
        raise ValueError(f"secret pattern {pattern!r} must start with a literal")
    steps = []
    for index in range(1, len(items), 2):
        kind, value = items[index]
        following = items[index + 1][1] if index + 1 < len(items) else ""
        if kind != "run" or (index + 1 < len(items) and items[index + 1][0] != "lit"):
            raise ValueError(f"secret pattern {pattern!r}: runs must be separated by literals")
        cls, minimum = value  # type: ignore[misc]
        run = re.compile(f"[{cls}]*")
        if following and run.fullmatch(following[0]):  # type: ignore[index]
            raise ValueError(f"secret pattern {pattern!r}: {following!r} can continue [{cls}]")
        steps.append(_Step(run, minimum, following))  # type: ignore[arg-type]
    return _Pattern(items[0][1], tuple(steps))  # type: ignore[arg-type]


_PATTERNS = tuple(_compile(p) for p in contract.SECRET_PATTERNS)
_START_RE = re.compile(
    rf"(?<![{contract.SECRET_NOT_AFTER}])(?:"
    + "|".join(re.escape(p.prefix) for p in _PATTERNS)
    + ")"
)


class _Runs:
    """End of the maximal run of one class starting at a position, memoized over the
    last runs computed (candidates come in increasing order, so this keeps the scan
    linear: every later start inside a known run reuses its end)."""

    def __init__(self, text: str, run: re.Pattern[str]) -> None:
        self._text = text
        self._match = run.match
        self._known: list[tuple[int, int]] = []

    def end(self, start: int) -> int:
        for known_start, known_end in self._known:
            if known_start <= start <= known_end:
                return known_end
        end = self._match(self._text, start).end()  # type: ignore[union-attr]
        self._known = [*self._known[-3:], (start, end)]
        return end


def _match_at(text: str, pos: int, pattern: _Pattern, runs: dict) -> int | None:
    if not text.startswith(pattern.prefix, pos):
        return None
    pos += len(pattern.prefix)
    for step in pattern.steps:
        memo = runs.get(step.run)
        if memo is None:
            memo = runs[step.run] = _Runs(text, step.run)
        end = memo.end(pos)
        if end - pos < step.minimum:
            return None
        if step.literal:
            if not text.startswith(step.literal, end):
                return None
            end += len(step.literal)
        pos = end
    return pos


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """The secrets of ``text``: leftmost first, never overlapping."""
    runs: dict = {}
    pos = 0
    search = _START_RE.search
    while True:
        candidate = search(text, pos)
        if candidate is None:
            return
        start = candidate.start()
        for pattern in _PATTERNS:  # the first pattern that matches here, as in an alternation
            end = _match_at(text, start, pattern, runs)
            if end is not None:
                yield start, end
                pos = end
                break
        else:
            pos = start + 1


def has_secret(text: str) -> bool:
    """True when ``text``, as written, holds a SPEC 2.5 secret anywhere."""
    return next(_spans(text), None) is not None


_PREFIXES = tuple(p.prefix for p in _PATTERNS)


def may_hold_secret(text: str) -> bool:
    """False when ``text`` holds no secret for sure: no pattern's first literal occurs
    in it. Substring tests, several times faster than the start-rule search."""
    return any(prefix in text for prefix in _PREFIXES)


def _replace(text: str, spans: list[tuple[int, int]], matched: list[str]) -> str:
    pieces = []
    pos = 0
    for (start, end), secret in zip(spans, matched, strict=True):
        pieces.append(text[pos:start])
        pieces.append(redacted_form(secret))
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _redact_plain(text: str) -> tuple[str, int]:
    count = 0
    while True:
        spans = list(_spans(text))
        if not spans:
            return text, count
        count += len(spans)
        text = _replace(text, spans, [text[s:e] for s, e in spans])


# What every value needing work holds: a pattern's first literal or an unstorable
# character. Most values hold neither and are returned after this one search.
_SUSPECT_RE = re.compile(
    "|".join(re.escape(p.prefix) for p in _PATTERNS) + "|" + _UNSTORABLE_RE.pattern
)


def redact_value(value: str) -> tuple[str, bool]:
    """A stored string value (already decoded): storable, every secret replaced.

    Returns the new value and whether a secret was replaced (the NUL / surrogate
    replacement alone does not count, SPEC 2.5).
    """
    if _SUSPECT_RE.search(value) is None:
        return value, False
    text, count = _redact_plain(storable(value))
    return text, count > 0


# ------------------------------------------------------------- escaped text

_ESCAPE_RE = re.compile(
    r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|u([0-9a-fA-F]{4})|([\"\\/bfnrt]))"
)
_SIMPLE_ESCAPES = dict(zip('"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True))


def _escape_char(m: re.Match[str]) -> str:
    high, low, single, simple = m.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if single is not None:
        code = int(single, 16)
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)
    return _SIMPLE_ESCAPES[simple]


class _Decoded:
    """``text`` with its JSON escapes decoded, and the way back to source positions.

    The decoded text is cut into pieces: runs copied from the source, and single
    characters that each stand for one escape (a surrogate pair is one escape).
    """

    def __init__(self, text: str) -> None:
        decoded: list[str] = []
        self.dec_starts: list[int] = []
        self.raw_starts: list[int] = []
        self.raw_ends: list[int] = []
        self.escape: list[bool] = []
        raw = 0
        length = 0
        for m in _ESCAPE_RE.finditer(text):
            if m.start() > raw:
                self._piece(length, raw, m.start(), False)
                decoded.append(text[raw : m.start()])
                length += m.start() - raw
            self._piece(length, m.start(), m.end(), True)
            decoded.append(_escape_char(m))
            length += 1
            raw = m.end()
        if raw < len(text):
            self._piece(length, raw, len(text), False)
            decoded.append(text[raw:])
        self.text = "".join(decoded)

    def _piece(self, dec_start: int, raw_start: int, raw_end: int, escape: bool) -> None:
        self.dec_starts.append(dec_start)
        self.raw_starts.append(raw_start)
        self.raw_ends.append(raw_end)
        self.escape.append(escape)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span of the decoded characters ``[start, end)`` (end > start)."""
        first = bisect_right(self.dec_starts, start) - 1
        last = bisect_right(self.dec_starts, end - 1) - 1
        raw_start = self.raw_starts[first]
        if not self.escape[first]:
            raw_start += start - self.dec_starts[first]
        if self.escape[last]:
            raw_end = self.raw_ends[last]
        else:
            raw_end = self.raw_starts[last] + (end - self.dec_starts[last])
        return raw_start, raw_end


def redact_text(text: str) -> tuple[str, int]:
    """Text that may hold JSON escapes: storable, and every secret of its decoded form
    replaced in place. Returns the new text and the number of secrets replaced."""
    text = storable(text)
    if "\\" not in text:
        return _redact_plain(text)
    count = 0
    while True:
        decoded = _Decoded(text)
        spans = list(_spans(decoded.text))
        if not spans:
            return text, count
        count += len(spans)
        matched = [decoded.text[s:e] for s, e in spans]
        text = _replace(text, [decoded.raw_span(s, e) for s, e in spans], matched)
