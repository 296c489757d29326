"""The pydantic side of every config and rule file: one strict base model, the field
types several files share, and the one mapping from a pydantic error to
``ConfigError(file, key, message)``.

Every file is read by :func:`validate_document`, which reports the first problem as a
``ConfigError`` whose key is a path into the document (``thresholds.retry_span_s``,
``rules[2] (id=search-prod).assign.owner_tag``, ``windows[0].timezone``; ``(document)``
for the top level). Messages are written here, not taken from pydantic, and never
format the bad value whole: it is described by type or shown short and redacted
(:func:`tokenreview_pipeline.errors.shown`), so a "billion laughs" YAML document in any
value gives a short message at once.

Validators raise :func:`invalid` (a message, optionally at a key below the value being
validated) rather than ``ValueError``, so their message reaches the user unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tokenreview_pipeline.errors import ConfigError, clipped, describe, shown
from tokenreview_pipeline.isotime import parse_date

__all__ = [
    "FileModel",
    "HttpUrl",
    "IsoDate",
    "NonEmptyStr",
    "OptionalText",
    "Share",
    "StrippedStr",
    "error_location_and_message",
    "invalid",
    "key_path",
    "non_empty_str",
    "stripped_str",
    "null_as",
    "one_of",
    "validate_document",
]

Model = TypeVar("Model", bound=BaseModel)

_ERROR_TYPE = "tokenreview"
_KEY_CHARS = 64
_LABEL_CHARS = 40


def invalid(message: str, *at: str | int) -> PydanticCustomError:
    """An error to raise from a validator; ``at`` is a key path below the validated value."""
    return PydanticCustomError(_ERROR_TYPE, "{message}", {"message": message, "at": at})


class FileModel(BaseModel):
    """Base of every model of a YAML file: strict types (``3.5`` is not an int, ``"3"``
    not a number, ``true`` neither), unknown keys are errors, values are frozen."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )

    # How an unknown key is called in messages ("unknown rule key; allowed: ...").
    key_kind: ClassVar[str] = "key"
    # Whether ``null`` (``thresholds:`` with nothing under it) means "all defaults".
    null_is_empty: ClassVar[bool] = False

    @classmethod
    def allowed_keys(cls) -> tuple[str, ...]:
        return tuple(info.alias or name for name, info in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if data is None and cls.null_is_empty:
            return {}
        if isinstance(data, dict):
            allowed = cls.allowed_keys()
            for key in data:
                if not isinstance(key, str) or key not in allowed:
                    raise invalid(f"unknown {cls.key_kind}; allowed: {', '.join(allowed)}", key)
        return data


# ------------------------------------------------------------------ shared field types


def non_empty_str(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected a non-empty string, got {describe(value)}")
    return value


def stripped_str(value: object) -> str:
    return non_empty_str(value).strip()


def _optional_text(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"expected a string, got {describe(value)}")
    return value


def _iso_date(value: object) -> date:
    if isinstance(value, datetime):  # a datetime is a date: check it first
        raise invalid("expected a date YYYY-MM-DD, got a timestamp")
    if isinstance(value, date):
        return value  # YAML already read an unquoted date
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return parse_date(text)
            except ValueError:
                pass
        raise invalid(f"expected a date YYYY-MM-DD, got {shown(value)}")
    raise invalid(f"expected a date YYYY-MM-DD, got {describe(value)}")


def _http_url(value: object) -> str:
    # The URL is never shown: it may carry credentials (user:password@, ?token=).
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected a URL string, got {describe(value)}")
    text = value.strip()
    try:
        parts = urlsplit(text)
        absolute = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        absolute = False
    if not absolute:
        raise invalid("expected an absolute http(s) URL (http://host/... or https://host/...)")
    return text


NonEmptyStr = Annotated[str, PlainValidator(non_empty_str)]
"""A string with something other than whitespace in it, kept as written."""
StrippedStr = Annotated[str, PlainValidator(stripped_str)]
"""A non-empty string, surrounding whitespace removed."""
OptionalText = Annotated[str | None, PlainValidator(_optional_text)]
HttpUrl = Annotated[str, PlainValidator(_http_url)]
"""An absolute ``http://`` or ``https://`` URL, surrounding whitespace removed."""
IsoDate = Annotated[date, PlainValidator(_iso_date)]
"""A date: YAML's own (unquoted ``2026-11-20``) or a string ``YYYY-MM-DD``."""
Share = Annotated[float, Field(ge=0.0, le=1.0)]


def null_as(default: object) -> BeforeValidator:
    """``key: null`` (or ``key:`` with nothing) means the default."""
    return BeforeValidator(lambda value: default if value is None else value)


def one_of(choose: Callable[[dict[Any, Any]], type[BaseModel]]) -> PlainValidator:
    """A field holding one of several models, picked by ``choose`` from the raw mapping.

    ``choose`` raises :func:`invalid` when no model fits. The chosen model's errors keep
    their own key paths (no union member names in them, unlike pydantic unions).
    """

    def validate(value: object, info: ValidationInfo) -> BaseModel:
        if not isinstance(value, dict):
            raise invalid(f"expected a mapping, got {describe(value)}")
        return choose(value).model_validate(value, context=info.context)

    return PlainValidator(validate)


# -------------------------------------------------------------------- error mapping


def _key_text(key: object, limit: int = _KEY_CHARS) -> str:
    if isinstance(key, str):
        # control characters escaped, no quotes (but an empty key is shown as '')
        return repr(clipped(key, limit))[1:-1] if key else "''"
    return shown(key)


def key_path(loc: Sequence[str | int], doc: object, labels: Mapping[str, str] | None = None) -> str:
    """``("rules", 2, "assign", "owner_tag")`` -> ``rules[2] (id=search-prod).assign.owner_tag``.

    ``doc`` is the raw document, walked along ``loc`` to tell list positions from mapping
    keys and to find labels: ``labels={"rules": "id"}`` names each item of ``rules`` by
    its ``id`` when that is a non-empty string. The empty path is ``(document)``.
    """
    labels = labels or {}
    out: list[str] = []
    node: object = doc
    parent_key: object = None
    for part in loc:
        if isinstance(part, int) and not isinstance(node, dict):  # a list position
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            text = f"[{part}]"
            label_key = labels.get(parent_key) if isinstance(parent_key, str) else None
            if label_key and isinstance(node, dict):
                label = node.get(label_key)
                if isinstance(label, str) and label.strip():
                    text += f" ({label_key}={_key_text(label, _LABEL_CHARS)})"
            out.append(text)
        else:
            node = node.get(part) if isinstance(node, dict) else None
            out.append(("." if out else "") + _key_text(part))
        parent_key = part
    return "".join(out) or "(document)"


def _number_got(value: object) -> str:
    return shown(value) if isinstance(value, int | float | str) else describe(value)


_MESSAGES: dict[str, Callable[[object, Mapping[str, Any]], str]] = {
    "missing": lambda v, c: "required",
    "extra_forbidden": lambda v, c: "unknown key",
    "model_type": lambda v, c: f"expected a mapping, got {describe(v)}",
    "model_attributes_type": lambda v, c: f"expected a mapping, got {describe(v)}",
    "dict_type": lambda v, c: f"expected a mapping, got {describe(v)}",
    "list_type": lambda v, c: f"expected a list, got {describe(v)}",
    "tuple_type": lambda v, c: f"expected a list, got {describe(v)}",
    "string_type": lambda v, c: f"expected a string, got {describe(v)}",
    "bool_type": lambda v, c: f"expected true or false, got {describe(v)}",
    "int_type": lambda v, c: f"expected an integer, got {_number_got(v)}",
    "int_from_float": lambda v, c: f"expected an integer, got {_number_got(v)}",
    "int_parsing": lambda v, c: f"expected an integer, got {_number_got(v)}",
    "float_type": lambda v, c: f"expected a number, got {_number_got(v)}",
    "float_parsing": lambda v, c: f"expected a number, got {_number_got(v)}",
    "finite_number": lambda v, c: f"expected a finite number, got {_number_got(v)}",
    "greater_than_equal": lambda v, c: f"expected a value >= {c['ge']}, got {_number_got(v)}",
    "greater_than": lambda v, c: f"expected a value > {c['gt']}, got {_number_got(v)}",
    "less_than_equal": lambda v, c: f"expected a value <= {c['le']}, got {_number_got(v)}",
    "less_than": lambda v, c: f"expected a value < {c['lt']}, got {_number_got(v)}",
    "literal_error": lambda v, c: f"expected {c['expected']}, got {_number_got(v)}",
    "too_short": lambda v, c: f"expected at least {c['min_length']} item(s)",
    "too_long": lambda v, c: f"expected at most {c['max_length']} item(s)",
}


def error_location_and_message(
    error: Mapping[str, Any], doc: object, labels: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """One pydantic error (an item of ``ValidationError.errors()``) as (key path, message)."""
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    about_key = bool(loc) and loc[-1] == "[key]"  # a mapping key itself is invalid
    if about_key:
        loc = loc[:-1]
    if error["type"] == _ERROR_TYPE:
        loc += tuple(ctx.get("at", ()))
        message = str(ctx["message"])
    elif error["type"] in _MESSAGES:
        message = _MESSAGES[error["type"]](error.get("input"), ctx)
    else:
        # pydantic's own text names the rule, never the value
        message = str(error.get("msg", "invalid value"))[:200]
    if about_key:
        message = f"invalid key: {message}"
    return key_path(loc, doc, labels), message


def validate_document(
    model: type[Model],
    doc: object,
    file: str | os.PathLike[str],
    *,
    labels: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Model:
    """Validate a parsed YAML document; the first problem raises ``ConfigError``."""
    try:
        return model.model_validate(doc, context=dict(context or {}))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        key, message = error_location_and_message(first, doc, labels)
        raise ConfigError(file, key, message) from None
