"""Debian's headless Chromium, driven by Playwright (its own browser download is unreachable
here). Without the browser a test is skipped on a developer's machine and fails in CI, which
installs it (.ci/run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str, purpose: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must {purpose} in Chromium (.ci/run installs it)")
    pytest.skip(reason)


@contextmanager
def chromium(purpose: str) -> Iterator[Any]:
    """A launched browser for ``purpose`` ("render the digest"), closed afterwards."""
    if not CHROMIUM.exists():
        _unavailable(f"Debian's chromium is not installed at {CHROMIUM}", purpose)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')", purpose)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
