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

from tokenreview_pipeline.errors import ConfigError, describe, load_yaml_file

__all__ = [
    "DEFAULT_PRIORITY",
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

RULE_KEYS = frozenset({"id", "priority", "match", "assign", "description"})
MATCH_KEYS = ("tags", "api_key_id", "model", "endpoint", "environment")
ASSIGN_KEYS = ("owner_tag", "workload_tag", "environment", "request_class")
REQUIRED_ASSIGN_KEYS = ("owner_tag", "workload_tag")
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
        raise ValueError(f"malformed template {template!r}: {exc}") from None
    for literal, field_name, format_spec, conversion in parsed:
        if literal:
            parts.append(("literal", literal))
        if field_name is None:
            continue
        if conversion is not None or format_spec:
            raise ValueError(
                f"placeholder {{{field_name}}} in {template!r} may not use a conversion "
                "or format spec"
            )
        if field_name in PLAIN_FIELDS:
            parts.append(("field", field_name))
        elif field_name.startswith(TAG_PREFIX) and len(field_name) > len(TAG_PREFIX):
            parts.append(("field", field_name))
        else:
            raise ValueError(
                f"unknown placeholder {{{field_name}}} in {template!r}; allowed: "
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


class _RuleContext:
    """Builds ``rules[i] (id=x).key`` paths for error messages."""

    def __init__(self, path: str | os.PathLike[str], index: int, rule_id: str | None) -> None:
        self.path = path
        self.prefix = f"rules[{index}]" + (f" (id={rule_id})" if rule_id else "")

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, f"{self.prefix}.{key}" if key else self.prefix, message)


def _nonempty_str(ctx: _RuleContext, key: str, value: object) -> str:
    if not isinstance(value, str) or value == "":
        raise ctx.error(key, f"expected a non-empty string, got {describe(value)}")
    return value


def _parse_match(ctx: _RuleContext, raw: object) -> RuleMatch:
    if raw is None:
        return RuleMatch()
    if not isinstance(raw, dict):
        raise ctx.error("match", f"expected a mapping, got {describe(raw)}")
    unknown = [k for k in raw if k not in MATCH_KEYS]
    if unknown:
        raise ctx.error(
            f"match.{unknown[0]}", f"unknown match key; allowed: {', '.join(MATCH_KEYS)}"
        )

    tags: dict[str, str] = {}
    raw_tags = raw.get("tags")
    if raw_tags is not None:
        if not isinstance(raw_tags, dict):
            raise ctx.error("match.tags", f"expected a mapping, got {describe(raw_tags)}")
        for name, value in raw_tags.items():
            if not isinstance(name, str) or name == "":
                raise ctx.error("match.tags", f"tag names must be non-empty strings: {name!r}")
            if not isinstance(value, str):
                raise ctx.error(
                    f"match.tags.{name}",
                    f"expected a string, got {describe(value)} (quote values such as "
                    "yes, no, on, 123 in YAML)",
                )
            tags[name] = value

    api_key_ids: frozenset[str] | None = None
    raw_keys = raw.get("api_key_id")
    if raw_keys is not None:
        if isinstance(raw_keys, str):
            api_key_ids = frozenset({_nonempty_str(ctx, "match.api_key_id", raw_keys)})
        elif isinstance(raw_keys, list):
            if not raw_keys:
                raise ctx.error("match.api_key_id", "expected a string or a non-empty list")
            api_key_ids = frozenset(
                _nonempty_str(ctx, f"match.api_key_id[{i}]", v) for i, v in enumerate(raw_keys)
            )
        else:
            raise ctx.error(
                "match.api_key_id",
                f"expected a string or a list of strings, got {describe(raw_keys)}",
            )

    def optional_str(key: str) -> str | None:
        value = raw.get(key)
        return None if value is None else _nonempty_str(ctx, f"match.{key}", value)

    return RuleMatch(
        tags=MappingProxyType(tags),
        api_key_ids=api_key_ids,
        model=optional_str("model"),
        endpoint=optional_str("endpoint"),
        environment=optional_str("environment"),
    )


def _parse_assign(ctx: _RuleContext, raw: object) -> Mapping[str, str]:
    if raw is None:
        raise ctx.error("assign", "required (with owner_tag and workload_tag)")
    if not isinstance(raw, dict):
        raise ctx.error("assign", f"expected a mapping, got {describe(raw)}")
    unknown = [k for k in raw if k not in ASSIGN_KEYS]
    if unknown:
        raise ctx.error(
            f"assign.{unknown[0]}", f"unknown assign key; allowed: {', '.join(ASSIGN_KEYS)}"
        )
    for key in REQUIRED_ASSIGN_KEYS:
        if raw.get(key) is None:
            raise ctx.error(f"assign.{key}", "required")
    assign: dict[str, str] = {}
    for key in ASSIGN_KEYS:  # canonical order
        if key not in raw or (raw[key] is None and key not in REQUIRED_ASSIGN_KEYS):
            continue
        template = _nonempty_str(ctx, f"assign.{key}", raw[key])
        try:
            parse_template(template)
        except ValueError as exc:
            raise ctx.error(f"assign.{key}", str(exc)) from None
        assign[key] = template
    return MappingProxyType(assign)


def _parse_rule(
    path: str | os.PathLike[str], index: int, raw: object, seen_ids: dict[str, int]
) -> AllocationRule:
    if not isinstance(raw, dict):
        raise ConfigError(path, f"rules[{index}]", f"expected a mapping, got {describe(raw)}")
    raw_id = raw.get("id")
    bare = _RuleContext(path, index, None)
    if raw_id is None:
        raise bare.error("id", "required")
    rule_id = _nonempty_str(bare, "id", raw_id)
    ctx = _RuleContext(path, index, rule_id)
    if rule_id in seen_ids:
        raise ctx.error("id", f"duplicate id (first used by rules[{seen_ids[rule_id]}])")

    unknown = [k for k in raw if k not in RULE_KEYS]
    if unknown:
        raise ctx.error(
            str(unknown[0]), f"unknown rule key; allowed: {', '.join(sorted(RULE_KEYS))}"
        )

    priority = raw.get("priority", DEFAULT_PRIORITY)
    if priority is None:
        priority = DEFAULT_PRIORITY
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ctx.error("priority", f"expected an integer, got {describe(priority)}")

    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise ctx.error("description", f"expected a string, got {describe(description)}")

    return AllocationRule(
        id=rule_id,
        priority=priority,
        position=index,
        match=_parse_match(ctx, raw.get("match")),
        assign=_parse_assign(ctx, raw.get("assign")),
        description=description,
    )


def load_allocation_rules(path: str | os.PathLike[str]) -> list[AllocationRule]:
    """Read ``allocation_rules.yaml``; rules come back in try order ``(priority, position)``.

    Raises ``ConfigError`` naming the file and the rule/key at fault.
    """
    doc = load_yaml_file(path)
    if not isinstance(doc, dict):
        raise ConfigError(
            path, "(document)", f"expected a mapping with 'rules', got {describe(doc)}"
        )
    unknown = [k for k in doc if k != "rules"]
    if unknown:
        raise ConfigError(path, str(unknown[0]), "unknown top-level key; allowed: rules")
    if "rules" not in doc:
        raise ConfigError(path, "rules", "required")
    raw_rules = doc["rules"]
    if raw_rules is None:
        raw_rules = []
    if not isinstance(raw_rules, list):
        raise ConfigError(path, "rules", f"expected a list, got {describe(raw_rules)}")

    seen_ids: dict[str, int] = {}
    rules: list[AllocationRule] = []
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(path, index, raw, seen_ids)
        seen_ids[rule.id] = index
        rules.append(rule)
    rules.sort(key=lambda r: (r.priority, r.position))
    return rules
