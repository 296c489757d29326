"""The bundled synthetic sample (the data files in this folder) and its generator.

``generate_sample(outdir, seed=7, attempts=2000, cycle_start=date(2026, 11, 16))`` writes a
complete, self-contained tokenreview project (SPEC sections 2 and 3) into ``outdir``::

    OUTDIR/
      tokenreview.yaml          config (SPEC 3): request_logs {kind: files, path: request_logs},
                                database_url sqlite:///tokenreview.db, pricing.json, the default
                                thresholds, first_cycle = the previous cycle (the first with data)
      allocation_rules.yaml     rules (SPEC 2.2); one team (labs) matches no rule -> unallocated;
                                workload shared-summarizer is reachable by two owners
      pricing.json              tokenreview format (SPEC 2.3): per-1M prices for 8 models, with
                                cached-input and cache-write prices, batch / flex / priority
                                tiers and a long-context band over 200k prompt tokens;
                                gemini-2.5-pro (a rarely used trial model) and the "scale"
                                service tier are deliberately NOT priced
      maintenance_windows.yaml  one absolute window inside the main cycle and one recurring daily
                                window in Asia/Shanghai that crosses local midnight
      known_sources.yaml        api_key_ids and source_cidrs (IPv4 and IPv6)
      evidence_sources.yaml     the four sources of SPEC 2.4, accessed 3 days before the cycle
      budgets.yaml              budgets (one changing at the main cycle's start, one not in force
                                yet) and change requests for the main cycle: four that are paused
                                (one for a workload without traffic), one ready for review
      billing/                  the provider's billed usage per UTC day and model (SPEC 2.9):
        cometapi-usage.csv           with token columns; gpt-4o billed above the estimate (a gap),
                                     deepseek-chat missing, the unpriced trial model billed
        cometapi-anthropic-costs.csv costs only (no token columns); whisper-1 billed, never logged
      request_logs/
        edge-YYYY-MM-DD.jsonl.gz     an edge gateway (share ``gzip_share``)
        gateway-YYYY-MM-DD.jsonl     the main gateway (the rest)
        legacy-proxy-export.csv      a legacy proxy (share ``csv_share``)

Each attempt is routed to a file at random, so the attempts of one logical request are often
spread over several files. Within each file records are in timestamp order. Traffic covers
the main cycle plus a margin of the previous and the next cycle (weekly: one day each side).

Determinism: only ``random.Random(seed)`` is used and no wall clock; the same arguments give
byte-identical files (gzip headers carry no name and mtime 0). Existing ``edge-*.jsonl.gz``,
``gateway-*.jsonl`` and ``legacy-proxy-export.csv`` files in ``OUTDIR/request_logs`` are
removed first, so re-generating into a folder leaves no stale shards.

Modules, in the order the data flows:

- ``world``: the price list, API keys, networks, hosts, text pools;
- ``profiles``: the workloads (traffic profiles) and their day and night weights;
- ``outcomes``: outcome kinds and mixes, latencies and client retry backoff;
- ``timeline``: the three cycles, the maintenance windows, the traffic rhythm;
- ``draws``: weighted choices, ids and secrets from the one ``random.Random``;
- ``usage``: the token classes of a successful attempt (cache reads and writes, reasoning);
- ``attempts``: logical requests and their attempt records;
- ``scripted``: the scripted requests that guarantee every case;
- ``defects``: the defective lines (``BAD_RECORD_KINDS``);
- ``writers``: the JSONL and gzip shards and the CSV export;
- ``configs``: the config and rule files;
- ``budget_plan``: ``budgets.yaml``;
- ``billed_usage``: the provider's billed usage of the attempts written, and its CSV files;
- ``generator``: ``generate_sample`` and ``GeneratedSample``.

The command line is ``tokenreview generate`` (``tokenreview_pipeline.cli``).
"""

from __future__ import annotations

from tokenreview_pipeline.sample.defects import BAD_RECORD_KINDS
from tokenreview_pipeline.sample.generator import GeneratedSample, generate_sample
from tokenreview_pipeline.sample.world import PRICES, UNPRICED_MODEL, UNPRICED_TIER
from tokenreview_pipeline.sample.writers import CSV_COLUMNS

__all__ = [
    "BAD_RECORD_KINDS",
    "CSV_COLUMNS",
    "PRICES",
    "UNPRICED_MODEL",
    "UNPRICED_TIER",
    "GeneratedSample",
    "generate_sample",
]
