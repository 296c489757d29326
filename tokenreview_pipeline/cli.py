"""The ``tokenreview`` command line (SPEC 7).

    tokenreview run      --config PATH --cycle YYYY-MM-DD [--review-date YYYY-MM-DD]
    tokenreview packets  --config PATH --cycle YYYY-MM-DD [--format table|csv|json]
    tokenreview explain  --config PATH --cycle YYYY-MM-DD --workload W
    tokenreview budget   --config PATH --cycle YYYY-MM-DD [--format table|csv|json]
    tokenreview report   --config PATH --cycle YYYY-MM-DD [--workload W] --out FILE.html
    tokenreview demo     [--outdir DIR] [--format tokenreview|litellm_spendlogs|mapped|otlp_json]
    tokenreview generate OUTDIR [--seed S] [--attempts N] [--cycle YYYY-MM-DD]
                         [--cadence daily|weekly|monthly] [--csv-share F] [--gzip-share F]
                         [--no-bad-records]
    tokenreview backfill --config PATH --from YYYY-MM-DD --to YYYY-MM-DD
    tokenreview bench    --attempts N [--database-url URL] [--history-weeks W] [--json]
                         [--compare-duckdb]

Every command that reads or writes the ledger takes ``--database-url``, which
wins over ``TOKENREVIEW_DATABASE_URL``, which wins over the config's
``database_url``. ``run`` materializes the asset graph through Dagster and
records the run in the instance of ``DAGSTER_HOME`` (default: ``.dagster``
beside the config), so ``dagster dev`` on the same home shows it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tokenreview_pipeline import db_cli, ledger
from tokenreview_pipeline.config import (
    CADENCES,
    LOG_FORMATS,
    TokenreviewConfig,
    load_config,
    load_review_inputs,
)
from tokenreview_pipeline.cycles import (
    CycleError,
    cycle_start_for,
    latest_complete_cycle,
    next_cycle_start,
    parse_cycle,
)
from tokenreview_pipeline.errors import ConfigError
from tokenreview_pipeline.isotime import parse_date

JSON_COLUMNS = ("source_urls", "allocation_rule_ids", "failed_requirements")
BUDGET_JSON_COLUMNS = ("pause_reasons",)


class CliError(Exception):
    pass


# ----------------------------------------------------------------------- helpers


def _date(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _load(args: argparse.Namespace) -> TokenreviewConfig:
    return load_config(args.config, database_url=getattr(args, "database_url", None))


def _load_for_run(args: argparse.Namespace) -> TokenreviewConfig:
    """The config, with every file it names validated: a run refuses bad configuration
    (exit 2) before it reads any data or writes the ledger."""
    config = _load(args)
    load_review_inputs(config)
    return config


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _records(rows: list[dict[str, Any]], json_columns: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        record = {k: _jsonable(v) for k, v in row.items()}
        for column in json_columns:
            if isinstance(record.get(column), str):
                record[column] = json.loads(record[column])
        out.append(record)
    return out


def packet_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Packets as plain JSON values; the JSON-array columns become arrays."""
    return _records(rows, JSON_COLUMNS)


def budget_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Budget reviews as plain JSON values; ``pause_reasons`` becomes an array."""
    return _records(rows, BUDGET_JSON_COLUMNS)


def _ledger(url: str):
    engine = ledger.engine_for(url)
    ledger.ensure_schema(engine)
    return engine


def _engine(config: TokenreviewConfig):
    return _ledger(config.database_url)


# ----------------------------------------------------------------------- commands


def dagster_home(config: TokenreviewConfig) -> Path:
    """``$DAGSTER_HOME``, else ``.dagster`` beside the config (SPEC 7)."""
    return Path(os.environ.get("DAGSTER_HOME") or (config.base_dir / ".dagster"))


def run_cycle(
    config: TokenreviewConfig,
    cycle_id: str,
    review_date: date | None = None,
    database_url: str | None = None,
    instance=None,
    log_level: str = "CRITICAL",
    tags: dict[str, str] | None = None,
    wait_s: float = 60.0,
    say=None,
):
    """Materialize the asset graph for one cycle through Dagster; returns the result.

    The run is a run of the code location's job (``cli_runs``): recorded in the instance
    of ``DAGSTER_HOME`` (or ``instance``) with the location's origin, started once the
    instance's run queue and the cycle allow it (waiting up to ``wait_s``, else
    ``cli_runs.RunRefused``), and executed in this process.
    """
    from tokenreview_pipeline import cli_runs
    from tokenreview_pipeline.defs.run_params import REVIEW_DATE_TAG

    cycle = parse_cycle(cycle_id, config.cadence)
    if cycle.start.date() < config.first_cycle:
        raise CycleError(f"cycle {cycle_id} is before first_cycle {config.first_cycle}")
    if cycle.end > datetime.now(timezone.utc):
        # Dagster's partitions end with the last complete cycle: a cycle still in
        # progress would be reviewed on partial traffic.
        raise CycleError(
            f"cycle {cycle.cycle_id} has not ended yet (it ends "
            f"{cycle.end:%Y-%m-%d %H:%M} UTC); the latest complete cycle is "
            f"{latest_complete_cycle(config.cadence, datetime.now(timezone.utc).date()).cycle_id}"
        )
    review_date = review_date or datetime.now(timezone.utc).date()
    # The ledger is checked (and a new one created) before the run is recorded: a ledger
    # that must be upgraded first refuses the run without leaving one in the instance.
    ledger_engine = _ledger(database_url or config.database_url)
    if instance is None:
        instance = cli_runs.open_instance(dagster_home(config))
    recon_job = cli_runs.reconstructable_cycle_job(config.path, database_url)
    run = cli_runs.create_cycle_run(
        instance,
        recon_job,
        cycle.cycle_id,
        tags={REVIEW_DATE_TAG: review_date.isoformat(), **(tags or {})},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    try:
        cli_runs.wait_for_turn(
            instance,
            run,
            wait_s=wait_s,
            ledger_engine=ledger_engine,
            say=say or (lambda text: print(f"tokenreview: {text}", file=sys.stderr)),
        )
    except BaseException:
        # Refused, interrupted while waiting, or failed: the run never started, so it is
        # removed (a NOT_STARTED run of ours would hold the cycle for later runs).
        instance.delete_run(run.run_id)
        raise
    return cli_runs.execute_cycle_run(instance, recon_job, run)


def failed_checks(result) -> list[tuple[str, str, str]]:
    """(asset, check, severity) of every check that failed in a run."""
    failed = []
    for event in result.get_asset_check_evaluations():
        if not event.passed:
            failed.append(
                (event.asset_key.to_user_string(), event.check_name, event.severity.value)
            )
    return failed


def root_cause(error) -> str:
    """The innermost message of a Dagster error chain (the ConfigError, not the wrapper)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _summary(config: TokenreviewConfig, cycle_id: str, result, out) -> None:
    engine = _engine(config)
    runs = ledger.extraction_runs
    import sqlalchemy as sa

    with engine.connect() as conn:
        counts = conn.execute(
            sa.select(runs).where(runs.c.cycle_id == cycle_id, runs.c.run_id == result.run_id)
        ).mappings()
        counts = counts.first()
    from tokenreview_pipeline.packet_tables import fetch_packets

    packets = fetch_packets(engine, cycle_id)
    status = "succeeded" if result.success else "FAILED"
    print(f"cycle {cycle_id}: run {result.run_id} {status}", file=out)
    if counts:
        print(
            f"  records read {counts['records_read']}: staged {counts['attempts_staged']}, "
            f"quarantined {counts['records_quarantined']}, exact duplicates "
            f"{counts['exact_duplicates']}, other cycles {counts['other_cycle_records']}; "
            f"redacted values {counts['redacted_values']}",
            file=out,
        )
    passed = sum(1 for p in packets if p["result"] == "pass")
    print(f"  packets: {len(packets)} ({passed} pass, {len(packets) - passed} fail)", file=out)
    for event in result.get_asset_materialization_events():
        fetch_error = event.materialization.metadata.get("fetch_error")
        if fetch_error is not None and fetch_error.value:
            print(f"  pricing fetch failed, last snapshot kept: {fetch_error.value}", file=out)
    for asset, check, severity in failed_checks(result):
        print(f"  check failed [{severity}]: {asset}.{check}", file=out)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"  step failed: {event.step_key}: "
                    f"{root_cause(event.event_specific_data.error)}",
                    file=out,
                )


def cmd_run(args: argparse.Namespace) -> int:
    from tokenreview_pipeline.cli_runs import RunRefused

    config = _load_for_run(args)
    try:
        result = run_cycle(
            config,
            args.cycle,
            args.review_date,
            args.database_url,
            log_level=args.log_level,
            wait_s=args.wait,
        )
    except RunRefused as exc:
        print(f"tokenreview: {exc}", file=sys.stderr)
        return 1
    _summary(config, parse_cycle(args.cycle, config.cadence).cycle_id, result, sys.stdout)
    return 0 if result.success else 1


def cycles_between(first: date, last: date, cadence: str) -> list[str]:
    """Every cycle start from the cycle holding ``first`` to the one holding ``last``."""
    start = cycle_start_for(first, cadence)
    cycles = []
    while start <= last:
        cycles.append(start.isoformat())
        start = next_cycle_start(start, cadence)
    return cycles


def cmd_backfill(args: argparse.Namespace) -> int:
    """Run past cycles one after another, oldest first; one Dagster run per cycle,
    tagged with a shared backfill id so the UI groups them."""
    from tokenreview_pipeline.cli_runs import RunRefused

    config = _load_for_run(args)
    if args.last < args.first:
        raise CliError(f"--to {args.last} is before --from {args.first}")
    cycles = cycles_between(args.first, args.last, config.cadence)
    backfill_id = datetime.now(timezone.utc).strftime("cli-%Y%m%dT%H%M%SZ")
    failed = []
    for cycle_id in cycles:
        try:
            result = run_cycle(
                config,
                cycle_id,
                args.review_date,
                args.database_url,
                log_level=args.log_level,
                tags={"tokenreview/backfill": backfill_id},
                wait_s=args.wait,
            )
        except RunRefused as exc:
            print(f"cycle {cycle_id}: not run: {exc}")
            failed.append(cycle_id)
            continue
        _summary(config, cycle_id, result, sys.stdout)
        if not result.success:
            failed.append(cycle_id)
    print(
        f"backfill {backfill_id}: {len(cycles) - len(failed)} of {len(cycles)} cycle(s) "
        f"succeeded" + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


def _print_cycle_table(
    args: argparse.Namespace,
    table: sa.Table,
    fetch: Callable[[Engine, str], list[dict[str, Any]]],
    records: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    text: Callable[[list[dict[str, Any]]], str],
    what: str,
) -> int:
    """A cycle's rows of a published ``table`` (``fetch``-ed in their output order) as
    JSON (``records`` of them), CSV (every column, in the table's order) or a table for
    people (``text``)."""
    config = _load(args)
    cycle = parse_cycle(args.cycle, config.cadence)
    rows = fetch(_engine(config), cycle.cycle_id)
    if args.format == "json":
        json.dump(records(rows), sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        columns = [c.name for c in table.columns]
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _jsonable(v) for k, v in row.items()})
    elif rows:
        print(text(rows))
    else:
        print(f"no {what} for cycle {cycle.cycle_id} (run `tokenreview run` first)")
    return 0


def cmd_packets(args: argparse.Namespace) -> int:
    from tokenreview_pipeline.packet_tables import fetch_packets, packets_text

    return _print_cycle_table(
        args, ledger.review_packets, fetch_packets, packet_records, packets_text, "packets"
    )


def cmd_budget(args: argparse.Namespace) -> int:
    """The cycle's budget reviews: the decision per workload, paused requests' notes."""
    from tokenreview_pipeline.packet_tables import budget_text, fetch_budget_reviews

    return _print_cycle_table(
        args,
        ledger.budget_reviews,
        fetch_budget_reviews,
        budget_records,
        budget_text,
        "budget reviews",
    )


def cmd_explain(args: argparse.Namespace) -> int:
    from tokenreview_pipeline.explain import UnknownWorkload, explain_workload

    config = _load(args)
    cycle = parse_cycle(args.cycle, config.cadence)
    try:
        text = explain_workload(_engine(config), cycle.cycle_id, args.workload)
    except UnknownWorkload as exc:  # SPEC 7: a workload the cycle does not have exits 2
        raise CliError(str(exc)) from None
    print(text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from tokenreview_pipeline.report import ReportError, render_report, write_report

    config = _load(args)
    cycle = parse_cycle(args.cycle, config.cadence)
    try:
        html = render_report(
            _engine(config),
            cycle,
            workload=args.workload,
            ledger_url=ledger.redact_url(config.database_url),
        )
    except ReportError as exc:
        raise CliError(str(exc)) from None
    path = write_report(Path(args.out), html)
    print(f"report for cycle {cycle.cycle_id}: {path.resolve()}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from tokenreview_pipeline.sample import generate_sample

    try:
        sample = generate_sample(
            args.outdir,
            seed=args.seed,
            attempts=args.attempts,
            cycle_start=args.cycle,
            cadence=args.cadence,
            csv_share=args.csv_share,
            gzip_share=args.gzip_share,
            bad_records=not args.no_bad_records,
        )
    except ValueError as exc:  # a CycleError too: it names the nearest cycle start
        raise CliError(str(exc)) from None
    print(
        f"wrote {sample.attempts_written} records in {len(sample.files)} file(s) to "
        f"{sample.outdir}; config: {sample.config_path}; cycles: {', '.join(sample.cycle_ids)}"
    )
    return 0


DEMO_WORKSPACE = """\
# Written by `tokenreview demo`: the code location the demo's runs belong to.
load_from:
  - python_module:
      module_name: {module}
      location_name: {location}
"""


def cmd_demo(args: argparse.Namespace) -> int:
    """Sample data for the latest complete cycle (and the cycle before it, which the
    sample also holds), every complete cycle run oldest first on SQLite, so the Dagster
    UI shows only real cycles, all materialized, and plots have more than one point."""
    from tokenreview_pipeline.cli_runs import CODE_LOCATION, CODE_LOCATION_MODULE
    from tokenreview_pipeline.packet_tables import fetch_packets, packets_text
    from tokenreview_pipeline.sample import generate_sample

    now = datetime.now(timezone.utc)
    cycle = latest_complete_cycle("weekly", now.date())
    outdir = Path(args.outdir).resolve()
    sample = generate_sample(
        outdir, seed=args.seed, attempts=args.attempts, cycle_start=cycle.start.date()
    )
    config_path = sample.config_path
    if args.format != "tokenreview":
        from tokenreview_pipeline.sample.input_formats import write_format_samples

        config_path = write_format_samples(outdir, outdir / "formats", [args.format])[args.format]
    db_path = outdir / "tokenreview.db"
    database_url = f"sqlite:///{db_path}"
    config = load_config(config_path, database_url=database_url)
    (outdir / "workspace.yaml").write_text(
        DEMO_WORKSPACE.format(module=CODE_LOCATION_MODULE, location=CODE_LOCATION)
    )
    complete = [c for c in sample.cycle_ids if parse_cycle(c, config.cadence).end <= now]
    print(
        f"demo: {sample.attempts_written} sample records for cycle(s) {', '.join(complete)} "
        f"in {config.request_logs.path} (format {args.format})"
    )
    failed = False
    for cycle_id in complete:
        result = run_cycle(config, cycle_id, database_url=database_url)
        _summary(config, cycle_id, result, sys.stdout)
        failed = failed or not result.success
    print()
    print(packets_text(fetch_packets(_engine(config), cycle.cycle_id)))
    print()
    print(f"Ledger: {db_path} (query it with sqlite3).")
    print(
        f"Explore: cd {outdir} && DAGSTER_HOME={outdir / '.dagster'} TOKENREVIEW_CONFIG="
        f"{config_path} dagster dev"
    )
    return 1 if failed else 0


# ----------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenreview",
        description="Evidence-backed token-budget reviews from LLM API request logs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def ledger_args(p: argparse.ArgumentParser, workload: bool = False) -> None:
        p.add_argument("--config", required=True, help="path to tokenreview.yaml")
        p.add_argument("--cycle", required=True, help="cycle start date YYYY-MM-DD")
        p.add_argument(
            "--database-url",
            help="ledger database URL (wins over TOKENREVIEW_DATABASE_URL and the config)",
        )
        if workload:
            p.add_argument("--workload", required=True, help="workload_tag to explain")

    def wait_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--wait",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="how long to wait for another run of the cycle (or a full run queue) "
            "before refusing with exit 1 (default: 60)",
        )

    p = sub.add_parser("run", help="materialize one cycle through Dagster")
    ledger_args(p)
    p.add_argument("--review-date", type=_date, help="review date (default: today, UTC)")
    p.add_argument(
        "--log-level",
        default="CRITICAL",
        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        help="Dagster events printed to the console (default: none; the summary names "
        "failures and the full event log is in the Dagster instance)",
    )
    wait_arg(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", help="run every cycle from --from to --to, oldest first")
    p.add_argument("--config", required=True, help="path to tokenreview.yaml")
    p.add_argument(
        "--from", dest="first", required=True, type=_date, help="a day in the first cycle to run"
    )
    p.add_argument(
        "--to", dest="last", required=True, type=_date, help="a day in the last cycle to run"
    )
    p.add_argument(
        "--database-url",
        help="ledger database URL (wins over TOKENREVIEW_DATABASE_URL and the config)",
    )
    p.add_argument("--review-date", type=_date, help="review date (default: today, UTC)")
    p.add_argument(
        "--log-level", default="CRITICAL", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    )
    wait_arg(p)
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("packets", help="print a cycle's review packets")
    ledger_args(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_packets)

    p = sub.add_parser("budget", help="print a cycle's budget reviews (the decision per workload)")
    ledger_args(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_budget)

    p = sub.add_parser("explain", help="explain one workload's packets")
    ledger_args(p, workload=True)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("report", help="a self-contained HTML report for the review meeting")
    ledger_args(p)
    p.add_argument("--workload", help="only this workload_tag")
    p.add_argument("--out", required=True, help="the HTML file to write (FILE.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="sample data, one cycle on SQLite, packets printed")
    p.add_argument("--outdir", default="tokenreview-demo", help="where to write the demo")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--attempts", type=int, default=3000)
    p.add_argument(
        "--format",
        choices=LOG_FORMATS,
        default="tokenreview",
        help="the request log's input format (SPEC 2.7): the sample's traffic written as "
        "LiteLLM SpendLogs rows, a gateway log read by a field map, or OpenTelemetry traces",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "generate",
        help="write realistic sample logs and configs",
        description="Write a synthetic tokenreview project (configs and request logs) into "
        "OUTDIR; the same arguments give byte-identical files.",
    )
    p.add_argument("outdir", help="folder to write (created if missing)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    p.add_argument("--attempts", type=int, default=2000, help="records to write (default: 2000)")
    p.add_argument(
        "--cycle",
        type=_date,
        help="the main cycle's start date (default: the cycle holding 2026-11-16)",
    )
    p.add_argument("--cadence", choices=CADENCES, default="weekly", help="default: weekly")
    p.add_argument(
        "--csv-share",
        type=float,
        default=0.1,
        help="share of attempts in the legacy CSV export (default: 0.1)",
    )
    p.add_argument(
        "--gzip-share",
        type=float,
        default=0.3,
        help="share of attempts in the gzip shards (default: 0.3)",
    )
    p.add_argument("--no-bad-records", action="store_true", help="write no defective lines")
    p.set_defaults(func=cmd_generate)

    db_cli.add_parser(sub)
    from tokenreview_pipeline.bench import add_parser as add_bench_parser

    add_bench_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (
        ConfigError,
        CycleError,
        CliError,
        db_cli.NoLedgerGiven,
        ledger.LedgerSchemaError,
    ) as exc:
        # a ledger at another schema revision is refused before any data is read
        print(f"tokenreview: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
