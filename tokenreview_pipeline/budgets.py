"""Budgets and budget-change requests (SPEC 2.8): ``budgets.yaml``, read and staged.

```yaml
budgets:            # per cycle, in USD; effective-dated
  - {workload_tag: search-web, budget_usd: 250.0, from: "2026-10-05"}
change_requests:    # decided by the review of the named cycle
  - {workload_tag: search-web, cycle: "2026-11-23", requested_budget_usd: 400.0,
     requested_by: team-search}
```

Both lists are optional (an empty file is no budgets and no requests); each entry may
carry a free-text ``description`` (the reason for the budget or the request, for the
people in the meeting; it is not stored in the ledger). Amounts are exact decimals: a
YAML number is read through its shortest decimal text (``250.1`` is 250.1, not the
nearest binary fraction), a quoted decimal (``"250.10"``) is read as written; they are
at least 0, below 10^15, with at most 18 decimal places (the ledger's precision).

Config errors (``ConfigError``) name the file, the key path with the entry's
``workload_tag`` (``change_requests[1] (workload_tag=search-web).cycle``) and the
entry's line: two budgets of one workload with the same ``from``, two change requests
of one workload for one cycle, and a ``cycle`` that is not a cycle start of the
configured cadence (the message names the nearest one).

Which budget applies to a cycle (the latest ``from`` on or before the cycle start) and
which request a review decides are rules of ``dbt_like_sql/budget_reviews.sql``: this
module stages every entry (:func:`stage_budget_plan`) for SQL to join.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

import sqlalchemy as sa
import yaml
from pydantic import (
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger
from tokenreview_pipeline.cycles import Cycle, CycleError, parse_cycle
from tokenreview_pipeline.errors import ConfigError, describe, load_yaml_file, shown
from tokenreview_pipeline.money import MAX_USD, parse_usd
from tokenreview_pipeline.schema import (
    FileModel,
    IsoDate,
    OptionalText,
    StrippedStr,
    error_location_and_message,
    invalid,
    null_as,
)

__all__ = [
    "Budget",
    "BudgetPlan",
    "ChangeRequest",
    "load_budgets",
    "stage_budget_plan",
]

_LABELS = {"budgets": "workload_tag", "change_requests": "workload_tag"}


# ----------------------------------------------------------------------- amounts


def _usd(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"expected an amount of USD (a number), got {describe(value)}")
    if isinstance(value, int) and not -MAX_USD < value < MAX_USD:
        raise invalid(f"expected an amount of USD below {MAX_USD:,.0f}, got {shown(value)}")
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        return parse_usd(text)
    except ValueError as exc:
        raise invalid(f"expected an amount of USD >= 0, got {shown(value)} ({exc})") from None


Usd = Annotated[Decimal, PlainValidator(_usd)]


# ------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Budget:
    """A budget in force from ``effective_from`` until the workload's next one."""

    workload_tag: str
    budget_usd: Decimal
    effective_from: date
    position: int  # in the file
    description: str | None = None


@dataclass(frozen=True)
class ChangeRequest:
    """A request to change a workload's budget, decided by the review of ``cycle_id``."""

    workload_tag: str
    cycle_id: str
    requested_budget_usd: Decimal
    requested_by: str
    position: int  # in the file
    description: str | None = None


@dataclass(frozen=True)
class BudgetPlan:
    """``budgets.yaml``, in file order (empty when the config names no budgets file)."""

    budgets: tuple[Budget, ...] = ()
    change_requests: tuple[ChangeRequest, ...] = ()


class _BudgetModel(FileModel):
    key_kind: ClassVar[str] = "budget key"

    workload_tag: StrippedStr
    budget_usd: Usd
    from_: IsoDate = Field(alias="from")
    description: OptionalText = None


class _ChangeRequestModel(FileModel):
    key_kind: ClassVar[str] = "change request key"

    workload_tag: StrippedStr
    cycle: IsoDate
    requested_budget_usd: Usd
    requested_by: StrippedStr
    description: OptionalText = None

    @field_validator("cycle", mode="after")
    @classmethod
    def _a_cycle_start(cls, value: date, info: ValidationInfo) -> date:
        cadence = (info.context or {}).get("cadence", "weekly")
        try:
            parse_cycle(value.isoformat(), cadence)
        except CycleError as exc:
            raise invalid(str(exc)) from None
        return value


def _first_duplicate(keys: Sequence[tuple[object, ...]]) -> tuple[int, int] | None:
    """(first index, duplicate index) of the first key seen twice, else None."""
    first_use: dict[tuple[object, ...], int] = {}
    for index, key in enumerate(keys):
        if key in first_use:
            return first_use[key], index
        first_use[key] = index
    return None


class _BudgetsFile(FileModel):
    key_kind: ClassVar[str] = "top-level key"
    null_is_empty: ClassVar[bool] = True

    budgets: Annotated[list[_BudgetModel], null_as([])] = Field(default_factory=list)
    change_requests: Annotated[list[_ChangeRequestModel], null_as([])] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_entry_per_key(self) -> _BudgetsFile:
        twice = _first_duplicate([(b.workload_tag, b.from_) for b in self.budgets])
        if twice is not None:
            first, index = twice
            raise invalid(
                f"a second budget of workload {shown(self.budgets[index].workload_tag)} from "
                f"{self.budgets[index].from_} (the first is budgets[{first}]); one budget per "
                "workload and date",
                "budgets",
                index,
                "from",
            )
        twice = _first_duplicate([(r.workload_tag, r.cycle) for r in self.change_requests])
        if twice is not None:
            first, index = twice
            raise invalid(
                f"a second change request of workload "
                f"{shown(self.change_requests[index].workload_tag)} for cycle "
                f"{self.change_requests[index].cycle} (the first is change_requests[{first}]); "
                "one request per workload and cycle",
                "change_requests",
                index,
                "cycle",
            )
        return self

    def plan(self) -> BudgetPlan:
        return BudgetPlan(
            budgets=tuple(
                Budget(b.workload_tag, b.budget_usd, b.from_, i, b.description)
                for i, b in enumerate(self.budgets)
            ),
            change_requests=tuple(
                ChangeRequest(
                    r.workload_tag,
                    r.cycle.isoformat(),
                    r.requested_budget_usd,
                    r.requested_by,
                    i,
                    r.description,
                )
                for i, r in enumerate(self.change_requests)
            ),
        )


# ------------------------------------------------------------------------ loading


def _line_of(path: Path, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` found in the YAML file.

    The file is composed, not constructed: aliases are not expanded, so this is cheap
    for any document that ``load_yaml_file`` accepted.
    """
    try:
        node: Any = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError, ValueError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            entry = next(
                (
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part)
                ),
                None,
            )
            mark, node = (entry[0].start_mark, entry[1]) if entry else (None, None)  # the key's
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
            mark = node.start_mark if node is not None else None
        else:
            node = mark = None
        if mark is None:
            break
        line = mark.line + 1
    return line


def _validate(doc: object, path: Path, cadence: str) -> _BudgetsFile:
    try:
        return _BudgetsFile.model_validate(doc, context={"cadence": cadence})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key, message = error_location_and_message(error, doc, _LABELS)
        at = tuple((error.get("ctx") or {}).get("at", ()))
        line = _line_of(path, (*error["loc"], *at))
        raise ConfigError(path, key, f"{message} (line {line})" if line else message) from None


def load_budgets(path: str | os.PathLike[str] | None, cadence: str) -> BudgetPlan:
    """Read ``budgets.yaml`` (SPEC 2.8) for a config of ``cadence``; no path = no budgets.

    Raises ``ConfigError`` naming the file, the entry, the key and its line.
    """
    if path is None:
        return BudgetPlan()
    path = Path(path)
    return _validate(load_yaml_file(path), path, cadence).plan()


# ------------------------------------------------------------------------ staging


def _plan_rows(cycle: Cycle, plan: BudgetPlan) -> Mapping[sa.Table, list[dict]]:
    return {
        ledger.stg_budgets: [
            {
                "cycle_id": cycle.cycle_id,
                "position": b.position,
                "workload_tag": b.workload_tag,
                "budget_usd": b.budget_usd,
                "effective_from": b.effective_from,
            }
            for b in plan.budgets
        ],
        ledger.stg_change_requests: [
            {
                "cycle_id": cycle.cycle_id,
                "position": r.position,
                "workload_tag": r.workload_tag,
                "review_cycle_id": r.cycle_id,
                "requested_budget_usd": r.requested_budget_usd,
                "requested_by": r.requested_by,
            }
            for r in plan.change_requests
        ],
    }


def stage_budget_plan(engine: Engine, cycle: Cycle, plan: BudgetPlan) -> dict[str, int]:
    """Replace the cycle's rows of ``stg_budgets`` and ``stg_change_requests`` with every
    entry of ``plan``, in one transaction; returns the rows written per table."""
    tables = _plan_rows(cycle, plan)
    with engine.begin() as conn:
        for table, rows in tables.items():
            conn.execute(sa.delete(table).where(table.c.cycle_id == cycle.cycle_id))
            if rows:
                conn.execute(table.insert(), rows)
    return {table.name: len(rows) for table, rows in tables.items()}
