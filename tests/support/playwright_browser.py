"""The `browser` fixture of the Playwright tests: Debian's Chromium, headless.

Registered for every test module by tests/conftest.py (`pytest_plugins`); it skips
with a clear message where chromium is not installed (`make browser-deps`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM:
        pytest.skip("chromium is not installed (make browser-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield chromium
        finally:
            chromium.close()
