"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright's
Python API (never ``playwright install``). Tests skip, saying why, where it is absent."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium():
    """Playwright's sync API, or a skip naming what is missing."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
