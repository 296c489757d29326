"""The shared configuration error, and the YAML reading helpers that raise it.

Every rule module (allocation, maintenance, sources) reads a small YAML file and
reports a problem as ``ConfigError(file, key, message)``, whose text is
``"{file}: {key}: {message}"`` -- the file and the key at fault, so that the person
who owns the file can fix it without reading code.

Messages never quote a YAML source line (only line/column numbers), so a secret
pasted into a config file by mistake is not echoed into logs; a value is described by
its type (:func:`describe`) or shown as a short, redacted scalar (:func:`shown`), never
formatted whole, so a huge or self-multiplying value (a YAML "billion laughs" document)
cannot blow up an error message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ConfigError",
    "clipped",
    "describe",
    "load_yaml_file",
    "shown",
]

# Longest string shown in a message, and how much of a string is scanned for secrets
# before it is cut (a secret cut in two would no longer look like one).
SHOWN_CHARS = 40
_SCANNED_CHARS = 400
_SHOWN_INT_LIMIT = 10**15


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


def clipped(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` with its secrets redacted (SPEC 2.5), cut to ``limit`` characters
    (``...`` marks the cut)."""
    # Imported here: the record module may one day raise ConfigError itself.
    from tokenreview_pipeline.extract.records import redact_text

    head, _ = redact_text(text[: max(limit, _SCANNED_CHARS)])
    if len(head) > limit or len(text) > _SCANNED_CHARS:
        return head[:limit] + "..."
    return head


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A bad value as an error message may show it: bounded, and never a secret.

    A string is quoted, redacted and cut to ``limit`` characters; a number is shown
    when short; anything else (a list, a mapping, ...) is only :func:`describe`-d, as
    formatting it could take unbounded time and memory.
    """
    if isinstance(value, str):
        return repr(clipped(value, limit))
    if isinstance(value, float):
        return repr(value)  # at most ~24 characters, inf and nan included
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if -_SHOWN_INT_LIMIT < value < _SHOWN_INT_LIMIT else "a huge integer"
    return describe(value)


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeySafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys in a mapping (PyYAML keeps the last).

    Merge keys (``<<: *base``) work as in YAML 1.1: a key written in the mapping wins
    over a merged one, and an earlier merged mapping over a later one. Unlike PyYAML's
    own ``flatten_mapping``, each merged key is kept once, so nested merges of the same
    anchor (``<<: [*a, *a]``, repeated) cannot grow exponentially.
    """

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        explicit = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        merged_sources: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            subnodes = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for subnode in subnodes:
                if not isinstance(subnode, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"expected a mapping to merge, but found {subnode.id}",
                        subnode.start_mark,
                    )
                merged_sources.append(subnode)
        if not merged_sources:
            return
        seen = {_key_identity(k) for k, _ in explicit}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for source in merged_sources:
            self.flatten_mapping(source)  # once per node: it holds no merge key afterwards
            for key_node, value_node in source.value:
                identity = _key_identity(key_node)
                if identity not in seen:
                    seen.add(identity)
                    merged.append((key_node, value_node))
        node.value = merged + explicit


def _key_identity(node: yaml.Node) -> object:
    # Scalar keys compare by resolved tag and text; other keys are unhashable in Python
    # and fail at construction anyway.
    return (node.tag, node.value) if isinstance(node, yaml.ScalarNode) else id(node)


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
                f"duplicate key {shown(key)} (line {mark.line + 1}, column {mark.column + 1})",
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
    except RecursionError:
        raise ConfigError(p, "(file)", "invalid YAML: nested too deeply") from None
    except ValueError:
        # int() refuses integers of more than 4300 digits (CPython's conversion limit).
        raise ConfigError(p, "(file)", "invalid YAML: a number too long to read") from None
