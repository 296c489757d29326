"""``format: mapped``: JSON lines of any other shape, read by a field map in the config.

An API gateway's access log or a proxy's own log: ``fields`` maps each 2.1 field to a
dotted path into the line's object (``config.MappedFields``; ``\\.`` is a dot inside a
key); a missing key is an absent field. SPEC 2.7:

- each field in ``fields`` <- the value at its path; int fields take a JSON integer or a string of
  decimal digits (headers are strings)
- ``timestamp`` <- ``iso`` (default): the value as 2.1 reads it; ``epoch_s`` / ``epoch_ms`` /
  ``epoch_us`` / ``epoch_ns``: a number or a string of digits, UTC (anything else:
  ``invalid_timestamp``)
- token fields <- ``usage: {path, style}`` (``USAGE_STYLES``) when not mapped in ``fields``
- ``prompt_fingerprint`` <- ``fingerprint: PATH``: SHA-256 of the canonical JSON of the value there,
  when not mapped in ``fields``
- ``tags`` <- ``tags_from: PATH`` (an object of strings; anything else ``invalid_type:tags``), then
  ``tags: {tag: PATH}``, which wins

Usage styles (absent parts count as 0; a part of the wrong type is ``invalid_type`` of
the 2.1 field it fills):

- ``openai_chat``:
    - ``prompt_tokens`` <- ``prompt_tokens``
    - ``completion_tokens`` <- ``completion_tokens``
    - ``cached_prompt_tokens`` <- ``prompt_tokens_details.cached_tokens``
    - ``cache_write_tokens`` <- ``prompt_tokens_details.cache_write_tokens``
    - ``reasoning_tokens`` <- ``completion_tokens_details.reasoning_tokens``
- ``openai_responses``:
    - ``prompt_tokens`` <- ``input_tokens``
    - ``completion_tokens`` <- ``output_tokens``
    - ``cached_prompt_tokens`` <- ``input_tokens_details.cached_tokens``
    - ``cache_write_tokens`` <- ``input_tokens_details.cache_write_tokens``
    - ``reasoning_tokens`` <- ``output_tokens_details.reasoning_tokens``
- ``anthropic``:
    - ``prompt_tokens`` <- ``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``
    - ``completion_tokens`` <- ``output_tokens``
    - ``cached_prompt_tokens`` <- ``cache_read_input_tokens``
    - ``cache_write_tokens`` <- ``cache_creation_input_tokens``
    - ``reasoning_tokens`` <- ``output_tokens_details.thinking_tokens``

Only mapped values are read: nothing else of the source is stored, and the raw text a
quarantined record keeps is the mapped record as JSON (values as read, ints converted
from digit strings). Content fields: none of the source's, since nothing unmapped is
read; the 2.1 content field names are dropped at any depth of what is.

Decisions where the SPEC is silent: a usage ``path`` whose value is not an object makes
the first token field it fills ``invalid_type`` (``prompt_tokens``); a ``fields`` path
whose value is null or missing leaves the field to ``usage`` / ``fingerprint``; digit
strings are also converted inside the usage object (a header-derived usage); lists are
not indexed by paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tokenreview_pipeline.contract import FIELDS_BY_NAME
from tokenreview_pipeline.extract.records import WRONG_TYPE, ExtractedRecord, prompt_fingerprint

from .base import MISSING, InputFormat, Where, get_path
from .values import digits_to_int, epoch_to_iso

__all__ = ["USAGE_STYLES", "MappedFormat"]

_INT_KINDS = frozenset({"int", "nonneg_int"})
_EPOCH_UNITS = {"epoch_s": 1, "epoch_ms": 1_000, "epoch_us": 1_000_000, "epoch_ns": 1_000_000_000}

#: style -> 2.1 token field -> path in the usage object (``anthropic``'s prompt_tokens
#: is the sum of the three parts listed).
USAGE_STYLES: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "openai_chat": {
        "prompt_tokens": (("prompt_tokens",),),
        "completion_tokens": (("completion_tokens",),),
        "cached_prompt_tokens": (("prompt_tokens_details", "cached_tokens"),),
        "cache_write_tokens": (("prompt_tokens_details", "cache_write_tokens"),),
        "reasoning_tokens": (("completion_tokens_details", "reasoning_tokens"),),
    },
    "openai_responses": {
        "prompt_tokens": (("input_tokens",),),
        "completion_tokens": (("output_tokens",),),
        "cached_prompt_tokens": (("input_tokens_details", "cached_tokens"),),
        "cache_write_tokens": (("input_tokens_details", "cache_write_tokens"),),
        "reasoning_tokens": (("output_tokens_details", "reasoning_tokens"),),
    },
    "anthropic": {
        "prompt_tokens": (
            ("input_tokens",),
            ("cache_creation_input_tokens",),
            ("cache_read_input_tokens",),
        ),
        "completion_tokens": (("output_tokens",),),
        "cached_prompt_tokens": (("cache_read_input_tokens",),),
        "cache_write_tokens": (("cache_creation_input_tokens",),),
        "reasoning_tokens": (("output_tokens_details", "thinking_tokens"),),
    },
}


def _present(value: object) -> bool:
    return value is not MISSING and value is not None


def _usage_value(usage: dict, parts: tuple[tuple[str, ...], ...]) -> object:
    """The sum of the parts present (absent when none is); the first part of the wrong
    type is returned as read, so validation calls it ``invalid_type``."""
    total = 0
    found = False
    for path in parts:
        value = digits_to_int(get_path(usage, path))
        if not _present(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return value
        total += value
        found = True
    return total if found else None


@dataclass(frozen=True)
class MappedFormat(InputFormat):
    fields: dict[str, tuple[str, ...]]
    timestamp_format: str = "iso"
    usage_path: tuple[str, ...] | None = None
    usage_style: str | None = None
    fingerprint: tuple[str, ...] | None = None
    tags: dict[str, tuple[str, ...]] | None = None
    tags_from: tuple[str, ...] | None = None

    name = "mapped"

    @classmethod
    def from_source(cls, source) -> MappedFormat:
        usage = source.usage
        return cls(
            fields=source.fields.paths(),
            timestamp_format=source.timestamp_format,
            usage_path=usage.path if usage else None,
            usage_style=usage.style if usage else None,
            fingerprint=source.fingerprint,
            tags=dict(source.tags),
            tags_from=source.tags_from,
        )

    def map_object(self, obj: dict) -> dict[str, object]:
        """The mapped record: 2.1 field -> value as read (digit strings of int fields
        converted, epochs as ISO 8601); absent fields left out."""
        record: dict[str, object] = {}
        for name, path in self.fields.items():
            value = get_path(obj, path)
            if not _present(value):
                continue
            if FIELDS_BY_NAME[name].kind in _INT_KINDS:
                value = digits_to_int(value, signed=FIELDS_BY_NAME[name].kind == "int")
            elif name == "timestamp" and self.timestamp_format != "iso":
                value = epoch_to_iso(value, _EPOCH_UNITS[self.timestamp_format])
            record[name] = value
        if self.usage_path is not None:
            usage = get_path(obj, self.usage_path)
            if _present(usage):
                styles = USAGE_STYLES[self.usage_style]  # type: ignore[index]
                for name, parts in styles.items():
                    if name in record:
                        continue
                    if not isinstance(usage, dict):
                        record[name] = WRONG_TYPE  # the first field it fills is the reason
                        break
                    value = _usage_value(usage, parts)
                    if value is not None:
                        record[name] = value
        if self.fingerprint is not None and "prompt_fingerprint" not in record:
            value = get_path(obj, self.fingerprint)
            if _present(value):
                record["prompt_fingerprint"] = prompt_fingerprint(value)
        tags = self._tags(obj)
        if tags is not None:
            record["tags"] = tags
        return _in_field_order(record)

    def _tags(self, obj: dict) -> object:
        merged: dict[str, object] = {}
        if self.tags_from is not None:
            source = get_path(obj, self.tags_from)
            if _present(source):
                if not isinstance(source, dict):
                    return source  # invalid_type:tags
                merged.update(source)
        for tag, path in (self.tags or {}).items():
            value = get_path(obj, path)
            if _present(value):
                merged[tag] = value
        return merged or None

    def object_records(
        self, obj: dict, *, forced_defect: str | None, where: Where
    ) -> Iterator[ExtractedRecord]:
        record = self.map_object(obj)
        if WRONG_TYPE in record.values():  # a usage value that is not an object: as read
            usage = get_path(obj, self.usage_path)  # type: ignore[arg-type]
            kept = {k: usage if v is WRONG_TYPE else v for k, v in record.items()}
        else:
            kept = record
        yield self.mapped_record(
            record, source=obj, kept=kept, forced_defect=forced_defect, where=where
        )


def _in_field_order(record: dict[str, object]) -> dict[str, object]:
    return {name: record[name] for name in FIELDS_BY_NAME if name in record}
