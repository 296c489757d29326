"""The shared configuration error, and the YAML reading helpers that raise it.

Every rule module (allocation, maintenance, sources) reads a small YAML file and
reports a problem as ``ConfigError(file, key, message)``, whose text is
``"{file}: {key}: {message}"`` -- the file and the key at fault, so that the person
who owns the file can fix it without reading code.

Messages never quote a YAML source line (only line/column numbers), so a secret
pasted into a config file by mistake is not echoed into logs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ConfigError",
    "describe",
    "load_yaml_file",
    "load_yaml_list",
]


class ConfigError(ValueError):
    """A problem in a configuration or rules file.

    ``str(error) == f"{file}: {key}: {message}"``. ``key`` is a path into the
    document such as ``rules[2] (id=search-prod).assign.owner_tag`` or
    ``windows[0].timezone``; problems with the file as a whole use ``(file)``
    (cannot be read or parsed) or ``(document)`` (wrong top-level shape).
    """

    def __init__(self, file: str | os.PathLike[str], key: str, message: str) -> None:
        self.file = os.fspath(file)
        self.key = key
        self.message = message
        super().__init__(f"{self.file}: {key}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the error picklable (multiprocess executors pickle exceptions).
        return (type(self), (self.file, self.key, self.message))


def describe(value: object) -> str:
    """A short, type-level description of a bad value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if value == "" else "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys in a mapping (PyYAML keeps the last)."""


def _construct_mapping_unique(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key; let the normal constructor report it
            duplicate = False
        if duplicate:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (line {mark.line + 1}, column {mark.column + 1})",
                None,
            )
        seen[key] = True
    return loader.construct_mapping(node, deep=True)


_UniqueKeySafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping_unique
)


def _yaml_error_text(exc: yaml.YAMLError) -> str:
    # Build the message from the problem and its position only: the default
    # str() of a MarkedYAMLError quotes the offending source line.
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        text = "; ".join(parts) or "invalid YAML"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None and "(line " not in text:
            text += f" (line {mark.line + 1}, column {mark.column + 1})"
        return text
    return "invalid YAML"


def load_yaml_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse one YAML document with PyYAML's safe loader.

    Duplicate mapping keys are rejected. An unreadable file or invalid YAML raises
    ``ConfigError(path, "(file)", ...)``. An empty file yields ``None``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, "(file)", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(p, "(file)", f"not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(p, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(p, "(file)", f"invalid YAML: {_yaml_error_text(exc)}") from None


def load_yaml_list(path: str | os.PathLike[str], key: str) -> list[Any]:
    """A YAML file whose only top-level key ``key`` holds a list (``key: []`` for none)."""
    doc = load_yaml_file(path)
    if not isinstance(doc, dict):
        raise ConfigError(
            path, "(document)", f"expected a mapping with '{key}', got {describe(doc)}"
        )
    for other in doc:
        if other != key:
            raise ConfigError(path, str(other), f"unknown top-level key; allowed: {key}")
    if key not in doc:
        raise ConfigError(path, key, f"required (use '{key}: []' for none)")
    raw = doc[key]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(path, key, f"expected a list, got {describe(raw)}")
    return raw
