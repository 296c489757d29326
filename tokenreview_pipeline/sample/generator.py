"""``generate_sample``: write a complete synthetic tokenreview project into a folder.

The orchestration: the configs, then one pass over the time line that merges random
traffic, the scripted requests and the defective lines into the log files in timestamp
order. Memory is O(1) per record: only the attempts not yet due are held (a heap ordered
by timestamp).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from tokenreview_pipeline.cycles import cycle_start_for
from tokenreview_pipeline.sample.attempts import Queued, RequestBuilder
from tokenreview_pipeline.sample.billed_usage import BilledUsage
from tokenreview_pipeline.sample.configs import CONFIG_NAME, write_configs
from tokenreview_pipeline.sample.defects import planned_defects, records_in, write_defect
from tokenreview_pipeline.sample.scripted import script_attempts, scripts_for
from tokenreview_pipeline.sample.timeline import Timeline
from tokenreview_pipeline.sample.writers import LOG_PATTERNS, LogFiles

# Without a cycle_start: the cycle (of the cadence) that holds this day.
DEFAULT_CYCLE_DAY = date(2026, 11, 16)

_DEFECT = -1  # the heap's format slot for a defective line


@dataclass
class GeneratedSample:
    """What ``generate_sample`` wrote."""

    outdir: Path
    config_path: Path
    attempts_written: int  # records written: non-blank JSONL lines + CSV data rows
    files: list[Path]  # config files, request log files in sorted order, billing files
    cycle_ids: list[str]  # previous, main and next cycle (the main one is cycle_ids[1])
    bad_records: dict[str, int] = field(default_factory=dict)  # kind -> lines written
    records_by_file: dict[str, int] = field(default_factory=dict)  # log file name -> records


def generate_sample(
    outdir: str | Path,
    *,
    seed: int = 7,
    attempts: int = 2000,
    cycle_start: date | None = None,
    cadence: str = "weekly",
    csv_share: float = 0.1,
    gzip_share: float = 0.3,
    bad_records: bool = True,
) -> GeneratedSample:
    """Write a synthetic tokenreview project (configs and request logs) into ``outdir``.

    ``attempts`` is the number of records written (defective lines included, blank lines and
    the CSV header excluded); it is met exactly, except in degenerate cases (fewer attempts
    than defective lines, or ``csv_share=1``) where one extra record may be written;
    ``attempts_written`` is always the exact count. ``cycle_start`` (default: the cycle
    holding 2026-11-16) must be a cycle start for ``cadence`` (weekly: a Monday; monthly:
    the 1st), else ``CycleError`` names the nearest one. ``csv_share`` and ``gzip_share``
    are the shares of attempts routed to the CSV file and to the gzip shards. Raises
    ``ValueError`` (``CycleError`` is one) for a bad argument, before writing anything.
    See the package docstring for the layout.
    """
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise ValueError(f"attempts must be a positive integer, not {attempts!r}")
    if not (0.0 <= csv_share <= 1.0 and 0.0 <= gzip_share <= 1.0 and csv_share + gzip_share <= 1):
        raise ValueError(
            f"csv_share and gzip_share must be in [0, 1] and sum to at most 1, "
            f"not {csv_share} and {gzip_share}"
        )
    if cycle_start is None:
        cycle_start = cycle_start_for(DEFAULT_CYCLE_DAY, cadence)
    elif isinstance(cycle_start, datetime):
        cycle_start = cycle_start.date()
    timeline = Timeline.for_cycle(cycle_start, cadence)

    out = Path(outdir)
    folder = out / "request_logs"
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in LOG_PATTERNS:
        for stale in folder.glob(pattern):
            stale.unlink()

    rng = random.Random(seed)  # the only source of randomness: no wall clock
    builder = RequestBuilder(rng, timeline, csv_share=csv_share, gzip_share=gzip_share)
    config_files = write_configs(out, timeline)
    billed = BilledUsage()
    stream = _Stream(builder, billed)
    with LogFiles(folder) as logs:
        stream.run(logs, attempts, bad_records)
    billing_files = billed.write(out)
    return GeneratedSample(
        outdir=out,
        config_path=out / CONFIG_NAME,
        attempts_written=logs.records_written,
        files=config_files + logs.files + billing_files,
        cycle_ids=[d.isoformat() for d in timeline.cycle_starts],
        bad_records=dict(stream.defects_written),
        records_by_file=dict(sorted(logs.records_by_file.items())),
    )


class _Stream:
    """Merges the three kinds of lines into the log files in timestamp order."""

    def __init__(self, builder: RequestBuilder, billed: BilledUsage):
        self.builder = builder
        self.billed = billed  # what the provider bills for the attempts written
        self.heap: list[tuple[int, int, int, object]] = []
        self.seq = 0  # ties keep queueing order
        self.defects_written: dict[str, int] = {}

    def _push(self, ts: int, fmt: int, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (ts, self.seq, fmt, payload))

    def _queue(self, queued: list[Queued]) -> int:
        for ts, fmt, rec in queued:
            self._push(ts, fmt, rec)
        return len(queued)

    def _drain(self, logs: LogFiles, until: int | None) -> None:
        heap = self.heap
        while heap and (until is None or heap[0][0] <= until):
            ts, _, fmt, payload = heapq.heappop(heap)
            if fmt == _DEFECT:
                self.defects_written[payload] = self.defects_written.get(payload, 0) + 1
                write_defect(logs, self.builder.rng, payload, ts)
            else:
                logs.write_record(fmt, payload, ts)
                self.billed.add(payload, ts)

    def run(self, logs: LogFiles, budget: int, bad_records: bool) -> None:
        builder, timeline = self.builder, self.builder.timeline
        rng = builder.rng
        # Defective lines: scheduled at fixed points of the main cycle.
        if bad_records:
            defects = planned_defects(
                budget,
                timeline.start_ms,
                timeline.end_ms,
                csv_share=builder.csv_share,
                gzip_share=builder.gzip_share,
            )
            budget -= records_in([kind for _, kind in defects])
            for ts, kind in defects:
                self._push(ts, _DEFECT, kind)

        # Scripted requests guarantee coverage; they take what they need from the budget.
        scripts = []
        for script in scripts_for(timeline):
            if script.n_written <= budget:
                scripts.append(script)
                budget -= script.n_written
        scripts.sort(key=lambda s: s.t0)
        si = 0

        # Random traffic: request i starts at T((consumed + u) / budget), so the stream ends
        # at the end of the span exactly when the budget is spent.
        inverse = timeline.arrival_inverse()
        total = budget
        consumed = 0
        while consumed < total:
            t0 = inverse((consumed + rng.random()) / total)
            while si < len(scripts) and scripts[si].t0 <= t0:
                self._queue(script_attempts(builder, scripts[si]))
                si += 1
            self._drain(logs, t0)
            consumed += max(1, self._queue(builder.random_request(t0, total - consumed)))
        for script in scripts[si:]:
            self._queue(script_attempts(builder, script))
        self._drain(logs, None)
