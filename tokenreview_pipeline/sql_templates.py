"""Rendering SQL model and check files: Jinja2, a few cross-database macros, the contract.

A model or check file is a Jinja2 template of one SQL ``SELECT``. Its context holds:

``ref('name')``
    the table of another model or ledger table; it declares the dependency (calls to
    ``ref`` must not be conditional, so discovery sees them all).
``published('name')``
    the published table of a model (other cycles' rows, as analysts see them); not a
    dependency.
``this``
    in a check: the table being checked (a published model's build table).
Macros for the few places SQLite and PostgreSQL spell things differently
    ``days_between(later, earlier)`` (whole days between two dates),
    ``json_string(expr)`` (a JSON string literal of a text value),
    ``json_array_agg(expr, order_expr)`` (an ordered JSON array of non-null values),
    ``text_agg(expr, separator, order_expr)`` (non-null texts joined in order),
    ``text_position(haystack, needle)`` (1-based position of a text in another, 0 if
    absent), ``code_point(expr)`` (a text ordered by code point, whatever the database
    collation), ``share_at_most(share, limit)`` (a share compared with a threshold:
    exactly on PostgreSQL's NUMERIC, with a 1e-9 slack for SQLite's REAL), ``newline()``.
    ``has_secret(expr, ...)`` (true when any of the text expressions holds
    a SPEC 2.5 secret: ``contract.SECRET_PATTERNS`` with their start rule, anywhere in
    the text; PostgreSQL's ``~``, SQLite's ``ledger.SQLITE_HAS_SECRET`` function).
The cost formula of SPEC 4.4, declared once (``contract.CHARGE_KINDS`` holds each charge
kind's quantity, price chain and unit; these macros turn them into SQL)
    ``normalized_tier(expr)`` (an attempt's ``service_tier``, ``standard`` for absent,
    empty, ``default`` and ``auto``),
    ``charge_quantity(kind, a)`` (the kind's quantity of an attempt; ``a`` is the table
    alias with its dot, or ``''``), ``charge_price(kind, p)`` (its unit price from a
    ``pricing_snapshot_prices`` row, SPEC 4.4's defaults applied), ``charge_cost(kind,
    quantity, p)`` (quantity times price per unit), ``unpriced_charge(kind, a, p)`` (the
    kind has a quantity and no price), ``cost_unknown(a, p)``, ``attempt_cost(a, p)``
    (the 4.4 formula: the sum of every kind's cost, null when unknown) and
    ``cache_savings(a, p)`` (cached tokens at the input price minus what they cost).
Ledger schema
    ``text_columns('table')``: the names of a ledger table's text columns, in order
    (so a check that scans "every stored text column" follows the schema).
The contract's vocabularies (``contract.py``)
    ``record_fields``, ``content_fields``, ``retry_causes`` (in the
    order they are tried), ``packet_causes`` (in packet column order), ``requirements``,
    ``pause_requirements``, ``no_packet_pause``, ``requester``, ``budget_decision``,
    ``billing_status``, ``unallocated``, ``reasons``, ``token_fields``, ``price_keys``,
    ``charge_kinds``, ``unpriced_reasons`` (and ``no_snapshot``, ``model_not_priced``,
    ``tier_not_priced``), ``standard_tier`` and ``focus`` (the FOCUS export's constants).
Filters
    ``sql_string`` quotes a Python string as a SQL literal; ``note_sql`` turns a
    requirement's note template into a SQL text expression.

Run parameters are bind parameters (``:cycle_id``), not template variables, so values
never become SQL text; ``CONTRACT_PARAMS`` adds the contract's constants
(``:unallocated``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
import sqlalchemy as sa

from tokenreview_pipeline import contract, ledger


class ModelError(RuntimeError):
    pass


def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def _macros(dialect: str) -> dict[str, Callable[..., str]]:
    pg = dialect == "postgresql"

    def days_between(later: str, earlier: str) -> str:
        if pg:
            return f"(({later}) - ({earlier}))"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

    def newline() -> str:
        return "chr(10)" if pg else "char(10)"

    def json_string(expr: str) -> str:
        return f"to_json(CAST({expr} AS TEXT))::text" if pg else f"json_quote({expr})"

    def json_array_agg(expr: str, order: str) -> str:
        # Ordered JSON array of the non-null values. SQLite 3.40 has no ORDER BY inside
        # aggregates: callers feed rows from a subquery already ordered by ``order``,
        # which SQLite aggregates in input order.
        if pg:
            return (
                f"COALESCE('[' || string_agg(to_json(CAST({expr} AS TEXT))::text, ','"
                f" ORDER BY {order}) || ']', '[]')"
            )
        return f"COALESCE(json_group_array({expr}) FILTER (WHERE {expr} IS NOT NULL), '[]')"

    def has_secret(*exprs: str) -> str:
        if not exprs:
            raise ModelError("has_secret() needs at least one expression")
        if pg:
            # One regular expression over the values joined by newlines: a newline is
            # neither part of a secret nor a letter or digit a secret may not follow,
            # so the join holds a secret exactly when one of the values does.
            joined = ", ".join(f"CAST({e} AS TEXT)" for e in exprs)
            return f"(concat_ws(chr(10), {joined}) ~ {sql_string(contract.SECRET_REGEX_POSIX)})"
        return f"({ledger.SQLITE_HAS_SECRET}({', '.join(exprs)}) = 1)"

    def text_agg(expr: str, separator: str, order: str) -> str:
        # As json_array_agg: SQLite aggregates rows in the order of an ordered subquery.
        if pg:
            return f"string_agg({expr}, {separator} ORDER BY {order})"
        return f"group_concat({expr}, {separator})"

    def text_position(haystack: str, needle: str) -> str:
        return f"strpos({haystack}, {needle})" if pg else f"instr({haystack}, {needle})"

    def code_point(expr: str) -> str:
        # SQLite compares text as UTF-8 bytes, which is code point order.
        return f'({expr}) COLLATE "C"' if pg else f"({expr})"

    def share_at_most(share: str, limit: str) -> str:
        # REAL cannot hold 0.05 or most sums of money exactly: a share at its threshold
        # must not come out a hair above it. NUMERIC is exact.
        return f"({share}) <= ({limit})" if pg else f"({share}) <= ({limit}) + 1e-9"

    return {
        "days_between": days_between,
        "newline": newline,
        "json_string": json_string,
        "json_array_agg": json_array_agg,
        "has_secret": has_secret,
        "text_agg": text_agg,
        "text_position": text_position,
        "code_point": code_point,
        "share_at_most": share_at_most,
        **COST_MACROS,
    }


def text_columns(table: str) -> list[str]:
    """The names of a ledger table's text columns (``String`` and ``Text``), in order."""
    try:
        columns = ledger.metadata.tables[table].columns
    except KeyError:
        raise ModelError(f"text_columns(): no ledger table {table!r}") from None
    return [c.name for c in columns if isinstance(c.type, sa.String)]


# ------------------------------------------------------------- SPEC 4.4 cost


def normalized_tier(expr: str) -> str:
    """An attempt's service tier: ``standard`` for absent, empty, ``default``, ``auto``."""
    aliases = ", ".join(sql_string(a) for a in contract.STANDARD_TIER_ALIASES)
    standard = sql_string(contract.STANDARD_TIER)
    return f"CASE WHEN {expr} IS NULL OR {expr} IN ({aliases}) THEN {standard} ELSE {expr} END"


def charge_quantity(kind: contract.ChargeKind, a: str) -> str:
    return f"({kind.quantity.format(a=a)})"


def charge_price(kind: contract.ChargeKind, p: str) -> str:
    """The kind's unit price in a price row: the first key of its chain that is present
    (SPEC 4.4's defaults), 0 for a missing ``per_request``."""
    chain = [f"{p}{key}" for key in kind.prices] + (["0"] if kind.missing_is_zero else [])
    return chain[0] if len(chain) == 1 else f"COALESCE({', '.join(chain)})"


def charge_cost(kind: contract.ChargeKind, quantity: str, p: str, price: str | None = None) -> str:
    """``quantity`` of the kind at its unit price (or ``price``), never rounded."""
    price = price or charge_price(kind, p)
    cost = f"({quantity}) * {price}"
    return cost if kind.per == 1 else f"{cost} / {float(kind.per)!r}"


def unpriced_charge(kind: contract.ChargeKind, a: str, p: str) -> str:
    return f"({charge_quantity(kind, a)} > 0 AND {charge_price(kind, p)} IS NULL)"


def cost_unknown(a: str, p: str) -> str:
    """No price row (model, tier or snapshot missing), or a kind used and not priced."""
    missing = [f"{p}{contract.REQUIRED_PRICE_KEYS[0]} IS NULL"]
    missing += [unpriced_charge(k, a, p) for k in contract.CHARGE_KINDS if k.may_be_unpriced]
    return "(" + " OR ".join(missing) + ")"


def _known_price(kind: contract.ChargeKind, p: str) -> str:
    # Once cost_unknown() is false, a kind without a price has no quantity: its cost is 0.
    price = charge_price(kind, p)
    return f"COALESCE({price}, 0)" if kind.may_be_unpriced else price


def attempt_cost(a: str, p: str) -> str:
    """SPEC 4.4: the sum over the charge kinds of quantity x unit price; null when unknown."""
    terms = [
        charge_cost(k, charge_quantity(k, a), p, price=_known_price(k, p))
        for k in contract.CHARGE_KINDS
    ]
    return f"CASE WHEN {cost_unknown(a, p)} THEN NULL ELSE {' + '.join(terms)} END"


def cache_savings(a: str, p: str) -> str:
    """What prompt caching saved: cached tokens at the uncached input price minus their
    cost (null when the attempt's cost is unknown)."""
    cached, uncached = contract.CACHED_INPUT_KIND, contract.UNCACHED_INPUT_KIND
    difference = f"({_known_price(uncached, p)} - {_known_price(cached, p)})"
    saved = charge_cost(cached, charge_quantity(cached, a), p, price=difference)
    return f"CASE WHEN {cost_unknown(a, p)} THEN NULL ELSE {saved} END"


COST_MACROS: dict[str, Callable[..., str]] = {
    "normalized_tier": normalized_tier,
    "charge_quantity": charge_quantity,
    "charge_price": charge_price,
    "charge_cost": charge_cost,
    "unpriced_charge": unpriced_charge,
    "cost_unknown": cost_unknown,
    "attempt_cost": attempt_cost,
    "cache_savings": cache_savings,
}


def _value_sql(name: str, requirement: contract.Requirement) -> str:
    if name == "case":
        if not requirement.cases:
            raise ModelError(f"requirement {requirement.name}: note uses {{case}} but has no cases")
        branches = [
            f"WHEN {when} THEN {_text_sql(text, requirement)}"
            for when, text in requirement.cases
            if when is not None
        ]
        otherwise = [_text_sql(text, requirement) for when, text in requirement.cases if not when]
        default = otherwise[0] if otherwise else "''"
        return f"CASE {' '.join(branches)} ELSE {default} END"
    return f"CAST({name} AS TEXT)"


def _text_sql(template: str, requirement: contract.Requirement) -> str:
    pieces = [
        sql_string(value) if kind == "text" else _value_sql(value, requirement)
        for kind, value in contract.split_note(template)
    ]
    return " || ".join(pieces) or "''"


def note_sql(requirement: contract.Requirement) -> str:
    """The SQL text expression of a requirement's note line (``<name>: <note>``)."""
    return _text_sql(f"{requirement.name}: {requirement.note}", requirement)


CONTRACT_CONTEXT: dict[str, Any] = {
    "record_fields": contract.RECORD_FIELDS,
    "content_fields": contract.CONTENT_FIELDS,
    "retry_causes": contract.RETRY_CAUSES,
    "packet_causes": contract.PACKET_CAUSE_ORDER,
    "unknown_cause": contract.UNKNOWN_CAUSE,
    "requirements": contract.REQUIREMENTS,
    "pause_requirements": contract.PAUSE_REQUIREMENTS,
    "no_packet_pause": contract.NO_PACKET_PAUSE,
    "requester": contract.REQUESTER,
    "budget_decision": contract.BUDGET_DECISION,
    "billing_status": contract.BILLING_STATUS,
    "unallocated": contract.UNALLOCATED,
    "reasons": contract.Reason,
    "token_fields": contract.TOKEN_FIELDS,
    "price_keys": contract.PRICE_KEYS,
    "charge_kinds": contract.CHARGE_KINDS,
    "request_kind": contract.REQUEST_KIND,
    "split_token_fields": contract.SPLIT_TOKEN_FIELDS,
    "unpriced_reasons": contract.UNPRICED_REASONS,
    "no_snapshot": contract.NO_SNAPSHOT,
    "model_not_priced": contract.MODEL_NOT_PRICED,
    "tier_not_priced": contract.TIER_NOT_PRICED,
    "standard_tier": contract.STANDARD_TIER,
    "focus": contract.FOCUS,
}


#: Contract constants every model and check may use as bind parameters.
CONTRACT_PARAMS: dict[str, Any] = {"unallocated": contract.UNALLOCATED}


class _ThisOutsideCheck:
    def __str__(self) -> str:
        raise ModelError("{{ this }} is only available in checks")


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["sql_string"] = sql_string
_ENV.filters["note_sql"] = note_sql


def render(
    text: str,
    dialect: str,
    this: str | None = None,
    ref: Callable[[str], str] | None = None,
) -> str:
    """Render one model or check file for ``dialect`` (``sqlite`` or ``postgresql``).

    ``ref`` maps a model or table name to the table to read (default: the name itself).
    """
    try:
        template = _ENV.from_string(text)
        return template.render(
            **CONTRACT_CONTEXT,
            **_macros(dialect),
            text_columns=text_columns,
            ref=ref or (lambda name: name),
            published=lambda name: name,
            this=_ThisOutsideCheck() if this is None else this,
        )
    except jinja2.UndefinedError as exc:
        raise ModelError(f"unknown macro or name in SQL template: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ModelError(f"SQL template syntax error at line {exc.lineno}: {exc.message}") from None


def referenced_names(text: str) -> tuple[str, ...]:
    """The names a template passes to ``ref()``, in first-use order."""
    found: list[str] = []

    def record(name: str) -> str:
        found.append(name)
        return name

    render(text, "sqlite", this="this_table", ref=record)
    return tuple(dict.fromkeys(found))
