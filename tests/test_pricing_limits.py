"""The pricing fetch has a total deadline and a size cap from config (pricing.timeout_s,
pricing.max_bytes), against a real local server that trickles or floods; and storing a
snapshot is idempotent, so two runs fetching the same bytes at once never collide."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from http_server import ExportServer, Fault
from scenario import DEFAULT_PRICING, write_scenario

from tokenreview_pipeline import ledger, pricing_store
from tokenreview_pipeline.config import load_config
from tokenreview_pipeline.errors import ConfigError
from tokenreview_pipeline.pricing import PricingFetchError, fetch_pricing_bytes, parse_pricing

PAGES = {None: {"data": [], "next_cursor": None}}


def _config(tmp_path, **pricing):
    path = write_scenario(
        tmp_path,
        [],
        extra_config={"pricing": {"url": "pricing.json", "format": "tokenreview", **pricing}},
    )
    return load_config(path)


def test_a_trickling_pricing_server_is_stopped_at_the_total_deadline(tmp_path):
    with ExportServer(PAGES, faults=[Fault.trickle(0.2)], max_lifetime_s=60) as server:
        start = time.monotonic()
        with pytest.raises(PricingFetchError, match="took longer than 1.5 s") as info:
            fetch_pricing_bytes(server.url, base_dir=tmp_path, timeout_s=1.5)
        elapsed = time.monotonic() - start
    # a per-read timeout would have waited 100,000 bytes x 0.2 s; the deadline is overrun
    # by at most one read (0.2 s here)
    assert elapsed < 10, elapsed
    assert "pricing fetch from" in str(info.value)


def test_a_pricing_body_over_the_size_cap_is_refused(tmp_path):
    flood = Fault.body(b" " * 5000 + json.dumps(DEFAULT_PRICING).encode())
    with ExportServer(PAGES, faults=[flood, flood], max_lifetime_s=60) as server:
        with pytest.raises(PricingFetchError, match="size cap of 1,024 bytes"):
            fetch_pricing_bytes(server.url, base_dir=tmp_path, max_bytes=1024)
        assert json.loads(fetch_pricing_bytes(server.url, base_dir=tmp_path)) == DEFAULT_PRICING
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(PricingFetchError, match="pricing.max_bytes"):
        fetch_pricing_bytes(str(big), base_dir=tmp_path, max_bytes=1024)


def test_the_limits_come_from_config_and_a_failed_fetch_is_recorded(tmp_path, db_url):
    with ExportServer(PAGES, faults=[Fault.trickle(0.2)], max_lifetime_s=60) as server:
        config = _config(tmp_path, url=server.url, timeout_s=1.0, max_bytes=200_000)
        assert (config.pricing.timeout_s, config.pricing.max_bytes) == (1.0, 200_000)
        engine = ledger.engine_for(db_url)
        ledger.ensure_schema(engine)
        outcome = pricing_store.fetch_pricing_snapshot(engine, config)
    assert not outcome.succeeded
    assert "took longer than 1 s" in outcome.error
    with engine.connect() as conn:
        errors = conn.execute(sa.select(ledger.pricing_fetches.c.error)).scalars().all()
    assert errors == [outcome.error]


@pytest.mark.parametrize(
    ("key", "value"),
    [("timeout_s", 0), ("timeout_s", 1e20), ("max_bytes", 10), ("max_bytes", 10**20)],
)
def test_the_limits_are_bounded_in_config(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"pricing.{key}"):
        _config(tmp_path, **{key: value})


def test_two_runs_storing_the_same_snapshot_at_once_do_not_collide(db_url):
    engine = ledger.engine_for(db_url)
    ledger.ensure_schema(engine)
    raw = json.dumps(DEFAULT_PRICING).encode()
    now = datetime(2026, 11, 16, tzinfo=timezone.utc)  # noqa: UP017 - Python 3.10
    snapshot = parse_pricing(raw, fmt="tokenreview", configured_url="pricing.json", accessed_at=now)
    results: list[object] = []

    first = ledger.write_connection(engine)
    first_tx = first.begin()
    assert pricing_store.store_snapshot(first, snapshot, "pricing.json", "tokenreview")

    def second_run() -> None:
        try:
            with ledger.write_connection(engine) as conn, conn.begin():
                results.append(
                    pricing_store.store_snapshot(conn, snapshot, "pricing.json", "tokenreview")
                )
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            results.append(exc)

    second = threading.Thread(target=second_run)
    second.start()
    time.sleep(1.0)  # the second run is waiting for the first one's row (or lock)
    assert results == []
    first_tx.commit()
    first.close()
    second.join(timeout=60)
    assert results == [False]  # not new, and no unique violation
    with engine.connect() as conn:
        snapshots = conn.execute(sa.select(sa.func.count()).select_from(ledger.pricing_snapshots))
        assert snapshots.scalar() == 1
        prices = conn.execute(
            sa.select(sa.func.count()).select_from(ledger.pricing_snapshot_prices)
        ).scalar()
    assert prices == len(pricing_store.price_rows(snapshot))
