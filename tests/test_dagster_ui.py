"""The Dagster UI as on-call sees it, in headless Chromium: `dagster dev` on 127.0.0.1
over a demo's cycles, the run under its job, the failed check on its cycle with the
failing packets and their notes, the packet table with notes.

Skips when Chromium (Debian's ``chromium``) or Playwright is absent. With
``TOKENREVIEW_UPDATE_SCREENSHOTS=1`` it also refreshes ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import launch, require_chromium

from tokenreview_pipeline.cli import main

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
STARTUP_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop `dagster dev` and everything it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def demo_ui(tmp_path_factory):
    require_chromium()
    outdir = tmp_path_factory.mktemp("ui") / "demo"
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(outdir / ".dagster")
    try:
        assert main(["demo", "--outdir", str(outdir), "--attempts", "400"]) == 0
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(outdir / ".dagster"),
        "TOKENREVIEW_CONFIG": str(outdir / "tokenreview.yaml"),
    }
    log = (outdir / "dagster-dev.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=outdir,  # its workspace.yaml: the code location `tokenreview`
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                urllib.request.urlopen(f"{base}/server_info", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "dagster dev did not start: "
                        + (outdir / "dagster-dev.log").read_text()[-3000:]
                    )
                time.sleep(1)
        yield base, outdir
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def page(demo_ui):
    from playwright.sync_api import sync_playwright

    base, _ = demo_ui
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{base}/assets/review_packets?view=checks")
        page.get_by_role("button", name="Skip").click()  # Dagster's newsletter dialog
        yield page
        browser.close()


def _shot(page, name: str) -> None:
    if os.environ.get("TOKENREVIEW_UPDATE_SCREENSHOTS"):
        page.wait_for_timeout(1500)  # dialogs fade in
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def _cycles(outdir: Path) -> list[str]:
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(outdir / ".dagster"))) as instance:
        return sorted(r.tags["dagster/partition"] for r in instance.get_runs())


def test_the_failed_check_shows_its_cycle_packets_and_notes(demo_ui, page):
    base, outdir = demo_ui
    cycle = _cycles(outdir)[-1]
    page.goto(f"{base}/assets/review_packets?view=checks&checkDetail=evidence_requirements_met")
    body = page.locator("body")
    body.get_by_text("packets fail:").first.wait_for()
    text = page.inner_text("body")
    assert "Failed" in text and "Skipped" not in text
    assert f"Cycle {cycle}:" in text
    assert "Partition" in text and cycle in text
    _shot(page, "check-evidence-requirements-met.png")
    page.get_by_text("[Show Markdown]").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("notes").first.wait_for()
    dialog_text = dialog.inner_text()
    assert "workload_tag" in dialog_text and "failed_requirements" in dialog_text
    assert "must" in dialog_text  # who must supply what is missing
    _shot(page, "check-failing-packets.png")
    page.keyboard.press("Escape")


def test_the_packet_table_has_notes_on_the_cycles_materialization(demo_ui, page):
    base, outdir = demo_ui
    cycle = _cycles(outdir)[-1]
    page.goto(f"{base}/assets/review_packets?view=partitions&partition={cycle}")
    page.get_by_text("packets_failed").first.wait_for()
    text = page.inner_text("body")
    assert "Missing (0)" in text  # only real cycles, all materialized
    assert "retries_unknown" in text and "priced_est_cost_usd" in text
    _shot(page, "review-packets-partition.png")
    page.get_by_text("[Show Markdown]").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("notes").first.wait_for()
    assert "owner_tag" in dialog.inner_text()
    _shot(page, "review-packets-table.png")
    page.keyboard.press("Escape")


def test_cli_runs_are_listed_under_their_job(demo_ui, page):
    base, outdir = demo_ui
    page.goto(f"{base}/locations/tokenreview/jobs/cycle_review/runs")
    page.get_by_text("Success").first.wait_for()
    text = page.inner_text("body")
    assert "No runs found" not in text
    for cycle in _cycles(outdir):
        assert f"partition: {cycle}" in text
    _shot(page, "job-runs.png")
