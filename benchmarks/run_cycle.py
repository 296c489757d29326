"""Benchmark: one full review cycle on generated data, at two sizes, through the CLI.

Prints wall time, peak memory (max RSS of the `tokenreview run` process) and input
size for each size, and the ratios between them (so figures compare within one run
on one machine):

    python3 benchmarks/run_cycle.py --attempts 100000 [--database-url URL]

The small size is a tenth of --attempts. Near-linear time (ratio ~10) and flat
memory (ratio ~1) are what bounded streaming extraction and in-database
transforms should give.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tokenreview_pipeline.cycles import parse_cycle
from tokenreview_pipeline.sample import generate_sample

CYCLE = "2026-11-16"


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(attempts: int, workdir: Path, database_url: str | None) -> dict:
    out = workdir / f"n{attempts}"
    started = time.perf_counter()
    sample = generate_sample(
        out, seed=11, attempts=attempts, cycle_start=parse_cycle(CYCLE, "weekly").start.date()
    )
    generated = time.perf_counter() - started
    url = database_url or f"sqlite:///{out / 'bench.db'}"
    cmd = [
        sys.executable,
        "-m",
        "tokenreview_pipeline.cli",
        "run",
        "--config",
        str(sample.config_path),
        "--cycle",
        CYCLE,
        "--database-url",
        url,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        raise SystemExit(f"run failed for {attempts} attempts")
    return {
        "attempts": sample.attempts_written,
        "input_mib": _folder_bytes(out / "request_logs") / 2**20,
        "generate_s": generated,
        "run_s": elapsed,
        # ru_maxrss of children is the max over all children so far: measure the
        # small size first so the large one's figure is its own.
        "peak_rss_mib": max(peak_kib, before) / 1024,
        "summary": proc.stdout.strip().splitlines()[1:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--database-url", help="ledger URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = measure(max(args.attempts // 10, 1000), Path(tmp), args.database_url)
        large = measure(args.attempts, Path(tmp), args.database_url)
    for m in (small, large):
        print(
            f"{m['attempts']:>9} records  input {m['input_mib']:7.1f} MiB  "
            f"run {m['run_s']:7.1f} s  peak RSS {m['peak_rss_mib']:7.1f} MiB  "
            f"({m['attempts'] / m['run_s']:,.0f} records/s)"
        )
        for line in m["summary"]:
            print("           " + line.strip())
    print(
        f"ratios large/small: records {large['attempts'] / small['attempts']:.1f}x, "
        f"run time {large['run_s'] / small['run_s']:.1f}x, "
        f"peak memory {large['peak_rss_mib'] / small['peak_rss_mib']:.2f}x; "
        f"peak memory / input size {large['peak_rss_mib'] / large['input_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
