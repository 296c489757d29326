"""Rule inputs of a cycle (Python assets): configuration staged as tables for SQL to join,
and the allocation decisions, the one step where Python reads a SQL model."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import ledger, rule_inputs
from tokenreview_pipeline.allocation import load_allocation_rules
from tokenreview_pipeline.allocation_decisions import decide_cycle_allocations
from tokenreview_pipeline.billing import BillingError, stage_billed_usage
from tokenreview_pipeline.budgets import load_budgets, stage_budget_plan
from tokenreview_pipeline.config import TokenreviewConfig
from tokenreview_pipeline.cycles import Cycle
from tokenreview_pipeline.defs.metadata import OWNERS, definition_metadata
from tokenreview_pipeline.defs.resources import LedgerResource, ReviewConfigResource
from tokenreview_pipeline.defs.run_params import cycle_of
from tokenreview_pipeline.defs.step_errors import ledger_step
from tokenreview_pipeline.maintenance import load_maintenance_windows
from tokenreview_pipeline.sources import load_evidence_sources, load_known_sources

# (config, engine, cycle) -> metadata of the materialization (row count included)
StageFn = Callable[[TokenreviewConfig, Engine, Cycle], dict[str, object]]


@dataclass(frozen=True)
class RuleInput:
    name: str
    tables: tuple[tuple[sa.Table, str], ...]  # (table, description); the first is the main one
    stage: StageFn
    group: str = "rules"
    deps: tuple[str, ...] = ()


def _maintenance_windows(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    windows = (
        load_maintenance_windows(config.maintenance_windows) if config.maintenance_windows else []
    )
    rows = rule_inputs.stage_maintenance_windows(
        engine, cycle, windows, config.thresholds.retry_span_s
    )
    return {"dagster/row_count": rows, "windows_configured": len(windows)}


def _evidence_sources(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    sources = load_evidence_sources(config.evidence_sources) if config.evidence_sources else []
    return {"dagster/row_count": rule_inputs.stage_evidence_sources(engine, cycle, sources)}


def _known_sources(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    known = load_known_sources(config.known_sources)
    return {
        "dagster/row_count": rule_inputs.stage_known_sources(engine, cycle, known),
        "api_key_ids_configured": known.api_key_ids is not None,
        "source_cidrs_configured": known.source_cidrs is not None,
    }


def _budgets(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    plan = load_budgets(config.budgets, config.cadence)
    rows = stage_budget_plan(engine, cycle, plan)
    return {
        "dagster/row_count": rows[ledger.stg_budgets.name],
        "change_requests": rows[ledger.stg_change_requests.name],
        "change_requests_for_cycle": sum(
            r.cycle_id == cycle.cycle_id for r in plan.change_requests
        ),
        "budgets_file": str(config.budgets) if config.budgets else "(not configured)",
    }


def _billed_usage(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    folder = config.billing.path if config.billing else None
    try:
        staged = stage_billed_usage(engine, cycle, folder)
    except BillingError as exc:
        raise dg.Failure(
            f"billed usage not loaded for cycle {cycle.cycle_id}: {exc}",
            metadata={"file": exc.file, "line": exc.line, "column": exc.column},
        ) from None
    return {
        "dagster/row_count": staged.rows_staged,
        "files_read": staged.files,
        "rows_read": staged.rows_read,
        "rows_with_tokens": staged.rows_with_tokens,
        "billing_folder": str(folder) if folder else "(not configured)",
    }


def _allocation_decisions(config: TokenreviewConfig, engine: Engine, cycle: Cycle) -> dict:
    rules = load_allocation_rules(config.allocation_rules)
    return {
        "dagster/row_count": decide_cycle_allocations(engine, cycle, rules),
        "rules_loaded": len(rules),
    }


RULE_INPUTS = (
    RuleInput(
        "stg_maintenance_windows",
        (
            (
                ledger.stg_maintenance_windows,
                "Maintenance windows (absolute and recurring, SPEC 2.4) as UTC intervals "
                "over the cycle's read window.",
            ),
        ),
        _maintenance_windows,
    ),
    RuleInput(
        "stg_evidence_sources",
        (
            (
                ledger.stg_evidence_sources,
                "Evidence sources (SPEC 2.4) as read for the cycle's review, in file order.",
            ),
        ),
        _evidence_sources,
    ),
    RuleInput(
        "stg_known_sources",
        (
            (
                ledger.stg_known_sources,
                "Known API key ids and source networks (SPEC 2.4), one row per entry.",
            ),
            (
                ledger.stg_known_source_lists,
                "Which known-source lists are configured for the cycle (a list that is "
                "not configured is not checked).",
            ),
        ),
        _known_sources,
    ),
    RuleInput(
        "stg_budgets",
        (
            (
                ledger.stg_budgets,
                "Budgets (SPEC 2.8) as read for the cycle's review, every entry in file "
                "order; budget_reviews applies the one in force at the cycle start.",
            ),
            (
                ledger.stg_change_requests,
                "Budget-change requests (SPEC 2.8), every entry in file order; "
                "budget_reviews decides those for the cycle.",
            ),
        ),
        _budgets,
    ),
    RuleInput(
        "stg_billed_usage",
        (
            (
                ledger.stg_billed_usage,
                "The provider's billed usage (SPEC 2.9) dated in the cycle, from the CSV "
                "files of billing.path; a malformed row fails this asset (naming file, "
                "line and column) and nothing is loaded.",
            ),
        ),
        _billed_usage,
        group="extract",
    ),
    RuleInput(
        "int_allocation_decisions",
        (
            (
                ledger.int_allocation_decisions,
                "Allocation rules (SPEC 2.2) decided on each logical request's first "
                "attempt, once per distinct set of the attributes rules read. Python, "
                "because rules match globs and render templates: the one step that reads "
                "a SQL model (int_grouped_attempts).",
            ),
        ),
        _allocation_decisions,
        group="transform",
        deps=("int_grouped_attempts", "stg_source_records"),
    ),
)


def rule_input_asset(spec: RuleInput, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    main, *companions = (table for table, _ in spec.tables)

    @dg.multi_asset(
        name=spec.name,
        group_name=spec.group,
        partitions_def=partitions,
        specs=[
            dg.AssetSpec(
                table.name,
                kinds={"python"},
                owners=OWNERS,
                description=description,
                deps=list(spec.deps),
                metadata=definition_metadata(table),
            )
            for table, description in spec.tables
        ],
    )
    def _stage(
        context: dg.AssetExecutionContext,
        ledger_db: LedgerResource,
        review_config: ReviewConfigResource,
    ):
        config = review_config.load()
        cycle = cycle_of(context, config)
        with ledger_step(ledger_db.database_url):
            metadata = spec.stage(config, ledger_db.for_cycle(context, cycle.cycle_id), cycle)
        yield dg.MaterializeResult(asset_key=main.name, metadata=metadata)
        for table in companions:
            yield dg.MaterializeResult(asset_key=table.name)

    return _stage


def build_rule_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [rule_input_asset(spec, partitions) for spec in RULE_INPUTS]
