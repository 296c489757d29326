"""Allocation rules (SPEC 2.2): which workload and owner a logical request is charged to.

``load_allocation_rules`` reads and validates ``allocation_rules.yaml``;
``decide_allocation`` applies the rules to the attributes of a logical request's
earliest attempt. Both are pure apart from reading the file.

Matching, in short:

* rules are tried by ``(priority, position in file)``; the first that matches wins;
* every condition given in ``match`` must hold (none given: matches everything):
  ``tags`` each equal, ``api_key_id`` any of, ``model``/``endpoint`` case-sensitive
  ``fnmatch`` globs, ``environment`` equal;
* a rule whose ``assign`` templates name a field the record lacks -- a missing
  tag, or an absent environment -- does not match, and the next rule is tried.
  An empty string counts as lacking (it would render as ``"search-"``).
"""

from __future__ import annotations

import fnmatch
import os
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, PlainValidator, model_validator

from tokenreview_pipeline.errors import clipped, describe, load_yaml_file, shown
from tokenreview_pipeline.schema import (
    FileModel,
    NonEmptyStr,
    OptionalText,
    invalid,
    non_empty_str,
    null_as,
    validate_document,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "MAX_PRIORITY",
    "UNALLOCATED",
    "AllocationDecision",
    "AllocationRule",
    "RequestAttributes",
    "RuleMatch",
    "decide_allocation",
    "load_allocation_rules",
    "match_conditions_hold",
    "parse_template",
    "render_assign",
    "render_template",
    "resolve_request_class",
    "rule_applies",
]

DEFAULT_PRIORITY = 100
UNALLOCATED = "unallocated"

# Bounds of `priority` (SPEC 2.2 says only "an int"): wide, and fits a 32-bit column.
MAX_PRIORITY = 1_000_000_000
PLAIN_FIELDS = frozenset({"model", "endpoint", "api_key_id", "environment"})
TAG_PREFIX = "tags."


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RuleMatch:
    """The normalized ``match`` block of a rule; ``None``/empty = condition not given."""

    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    api_key_ids: frozenset[str] | None = None
    model: str | None = None
    endpoint: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class AllocationRule:
    id: str
    priority: int = DEFAULT_PRIORITY
    position: int = 0
    match: RuleMatch = field(default_factory=RuleMatch)
    assign: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str | None = None


@dataclass(frozen=True)
class RequestAttributes:
    """What allocation looks at: the (redacted) fields of the earliest attempt."""

    api_key_id: str
    model: str
    endpoint: str
    environment: str | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class AllocationDecision:
    allocation_rule_id: str | None
    owner_tag: str | None
    workload_tag: str
    environment: str | None
    request_class: str


# ----------------------------------------------------------------------- templates

# A template is parsed into ("literal", text) and ("field", name) parts; a field
# name is either one of PLAIN_FIELDS or ("tags.", tag name).
TemplatePart = tuple[str, str]


@lru_cache(maxsize=1024)
def parse_template(template: str) -> tuple[TemplatePart, ...]:
    """Split a template into literal text and field references.

    ``{{`` and ``}}`` are literal braces. Raises ``ValueError`` for malformed
    braces, an unknown placeholder, or a format spec/conversion (``{model!r}``).
    """
    parts: list[TemplatePart] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"malformed template {shown(template, 80)}: {exc}") from None
    for literal, field_name, format_spec, conversion in parsed:
        if literal:
            parts.append(("literal", literal))
        if field_name is None:
            continue
        if conversion is not None or format_spec:
            raise ValueError(
                f"placeholder {{{clipped(field_name)}}} in {shown(template, 80)} may not use "
                "a conversion or format spec"
            )
        if field_name in PLAIN_FIELDS:
            parts.append(("field", field_name))
        elif field_name.startswith(TAG_PREFIX) and len(field_name) > len(TAG_PREFIX):
            parts.append(("field", field_name))
        else:
            raise ValueError(
                f"unknown placeholder {{{clipped(field_name)}}} in {shown(template, 80)}; "
                "allowed: "
                "{tags.NAME} {model} {endpoint} {api_key_id} {environment}"
            )
    return tuple(parts)


def _field_value(name: str, attrs: RequestAttributes) -> str | None:
    if name.startswith(TAG_PREFIX):
        value = attrs.tags.get(name[len(TAG_PREFIX) :])
    else:
        value = getattr(attrs, name)
    # An empty value counts as absent: "search-" is not a workload.
    return value if isinstance(value, str) and value != "" else None


def render_template(template: str, attrs: RequestAttributes) -> str | None:
    """Render a (validated) template; ``None`` when it names a field the record lacks."""
    out: list[str] = []
    for kind, text in parse_template(template):
        if kind == "literal":
            out.append(text)
            continue
        value = _field_value(text, attrs)
        if value is None:
            return None
        out.append(value)
    return "".join(out)


def render_assign(rule: AllocationRule, attrs: RequestAttributes) -> dict[str, str] | None:
    """All of the rule's ``assign`` values rendered, or ``None`` if any cannot be."""
    rendered: dict[str, str] = {}
    for key, template in rule.assign.items():
        value = render_template(template, attrs)
        if value is None:
            return None
        rendered[key] = value
    return rendered


# ------------------------------------------------------------------------ matching


def match_conditions_hold(match: RuleMatch, attrs: RequestAttributes) -> bool:
    """Whether every condition given in ``match`` holds for ``attrs``."""
    for tag, wanted in match.tags.items():
        if attrs.tags.get(tag) != wanted:
            return False
    if match.api_key_ids is not None and attrs.api_key_id not in match.api_key_ids:
        return False
    if match.model is not None and not fnmatch.fnmatchcase(attrs.model, match.model):
        return False
    if match.endpoint is not None and not fnmatch.fnmatchcase(attrs.endpoint, match.endpoint):
        return False
    if match.environment is not None and attrs.environment != match.environment:
        return False
    return True


def rule_applies(rule: AllocationRule, attrs: RequestAttributes) -> dict[str, str] | None:
    """The rule's rendered ``assign`` when the rule matches ``attrs``, else ``None``."""
    if not match_conditions_hold(rule.match, attrs):
        return None
    return render_assign(rule, attrs)


def resolve_request_class(
    attrs: RequestAttributes, rule_request_class: str | None, environment: str | None
) -> str:
    """SPEC 2.2 order: the attempt's non-empty ``tags.request_class``; the rule's
    ``request_class``; else ``"{environment}:{endpoint}"`` with ``unknown`` for an
    absent environment."""
    tagged = attrs.tags.get("request_class")
    if isinstance(tagged, str) and tagged != "":
        return tagged
    if rule_request_class:
        return rule_request_class
    return f"{environment or 'unknown'}:{attrs.endpoint}"


def decide_allocation(
    rules: Sequence[AllocationRule], attrs: RequestAttributes
) -> AllocationDecision:
    """Apply ``rules`` (already in try order, as returned by the loader) to ``attrs``."""
    for rule in rules:
        assigned = rule_applies(rule, attrs)
        if assigned is None:
            continue
        environment = assigned.get("environment", attrs.environment)
        return AllocationDecision(
            allocation_rule_id=rule.id,
            owner_tag=assigned["owner_tag"],
            workload_tag=assigned["workload_tag"],
            environment=environment,
            request_class=resolve_request_class(attrs, assigned.get("request_class"), environment),
        )
    return AllocationDecision(
        allocation_rule_id=None,
        owner_tag=None,
        workload_tag=UNALLOCATED,
        environment=attrs.environment,
        request_class=resolve_request_class(attrs, None, attrs.environment),
    )


# ------------------------------------------------------------------------- loading


def _template(value: object) -> str:
    text = non_empty_str(value)
    try:
        parse_template(text)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    return text


def _tag_value(value: object) -> str:
    if not isinstance(value, str):
        raise invalid(
            f"expected a string, got {describe(value)} (quote values such as yes, no, on, "
            "123 in YAML)"
        )
    return value


def _api_key_ids(value: object) -> object:
    """``api_key_id: key_a1`` or ``api_key_id: [key_a1, key_a2]``: a list either way."""
    if isinstance(value, str):
        return [non_empty_str(value)]
    if isinstance(value, list):
        if not value:
            raise invalid("expected a string or a non-empty list")
        return value
    raise invalid(f"expected a string or a list of strings, got {describe(value)}")


_Template = Annotated[str, PlainValidator(_template)]


class _MatchModel(FileModel):
    key_kind: ClassVar[str] = "match key"
    null_is_empty: ClassVar[bool] = True  # `match:` with nothing: matches everything

    tags: Annotated[dict[NonEmptyStr, Annotated[str, PlainValidator(_tag_value)]], null_as({})] = (
        Field(default_factory=dict)
    )
    api_key_id: Annotated[list[NonEmptyStr], BeforeValidator(_api_key_ids)] | None = None
    model: NonEmptyStr | None = None
    endpoint: NonEmptyStr | None = None
    environment: NonEmptyStr | None = None

    def rule_match(self) -> RuleMatch:
        return RuleMatch(
            tags=MappingProxyType(dict(self.tags)),
            api_key_ids=None if self.api_key_id is None else frozenset(self.api_key_id),
            model=self.model,
            endpoint=self.endpoint,
            environment=self.environment,
        )


class _AssignModel(FileModel):
    key_kind: ClassVar[str] = "assign key"

    owner_tag: _Template
    workload_tag: _Template
    environment: _Template | None = None
    request_class: _Template | None = None

    def templates(self) -> Mapping[str, str]:
        """The given templates, in this canonical key order."""
        return MappingProxyType({key: value for key, value in self if value is not None})


class _RuleModel(FileModel):
    key_kind: ClassVar[str] = "rule key"

    id: NonEmptyStr
    priority: Annotated[
        int, null_as(DEFAULT_PRIORITY), Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    ] = DEFAULT_PRIORITY
    match: _MatchModel = Field(default_factory=_MatchModel)
    assign: _AssignModel
    description: OptionalText = None

    def rule(self, position: int) -> AllocationRule:
        return AllocationRule(
            id=self.id,
            priority=self.priority,
            position=position,
            match=self.match.rule_match(),
            assign=self.assign.templates(),
            description=self.description,
        )


class _RulesFile(FileModel):
    key_kind: ClassVar[str] = "top-level key"

    rules: Annotated[list[_RuleModel], null_as([])]

    @model_validator(mode="after")
    def _unique_ids(self) -> _RulesFile:
        first_use: dict[str, int] = {}
        for index, rule in enumerate(self.rules):
            if rule.id in first_use:
                raise invalid(
                    f"duplicate id (first used by rules[{first_use[rule.id]}])",
                    "rules",
                    index,
                    "id",
                )
            first_use[rule.id] = index
        return self


def load_allocation_rules(path: str | os.PathLike[str]) -> list[AllocationRule]:
    """Read ``allocation_rules.yaml``; rules come back in try order ``(priority, position)``.

    Raises ``ConfigError`` naming the file and the rule/key at fault
    (``rules[2] (id=search-prod).assign.owner_tag``).
    """
    doc = validate_document(_RulesFile, load_yaml_file(path), path, labels={"rules": "id"})
    rules = [model.rule(position) for position, model in enumerate(doc.rules)]
    rules.sort(key=lambda r: (r.priority, r.position))
    return rules
