"""Run one cycle in a process of its own, as a separate `tokenreview run` would.

    python tests/cycle_process.py CONFIG CYCLE DATABASE_URL REVIEW_DATE

Step starts are logged to stderr (Dagster's console logger at DEBUG), so a test can kill
the process at a chosen step; the last stdout line is a JSON summary of the run.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import dagster as dg

from tokenreview_pipeline.cli import root_cause, run_cycle
from tokenreview_pipeline.config import load_config


def main(config_path: str, cycle: str, database_url: str, review_date: str) -> int:
    config = load_config(config_path, database_url=database_url)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_cycle(
            config,
            cycle,
            date.fromisoformat(review_date),
            database_url,
            instance=instance,
            log_level="DEBUG",
        )
    failures = [
        root_cause(e.event_specific_data.error) for e in result.all_events if e.is_step_failure
    ]
    print(json.dumps({"success": result.success, "run_id": result.run_id, "failures": failures}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
