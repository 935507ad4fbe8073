"""The website chat in a real browser (headless Debian Chromium via Selenium)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium/chromedriver are not installed (make browser-deps installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1200,900",
    ):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="lotse-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def texts(driver, selector: str) -> list[str]:
    """Read in one script call: the widget redraws its log, so element handles go stale."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText)",
        selector,
    )


def bot_texts(driver) -> list[str]:
    return texts(driver, ".lotse-bot")


def test_chat_in_the_browser_with_buttons_reload_and_page_context(stack, browser):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"http://{stack.host}:{stack.web_port}/en/presses")
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    driver.find_element(By.CSS_SELECTOR, ".lotse-launcher").click()
    # The greeting names the page the visitor is on: the page told the bot (metadata).
    wait_for(lambda: any("NW-Press" in t for t in bot_texts(driver)))

    # Quick-reply buttons: the greeting offers follow-ups; a click sends its payload
    # and shows its title as the visitor's message.
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, ".lotse-busy"))
    assert "Press prices" in texts(driver, ".lotse-button")
    driver.execute_script(
        "Array.from(document.querySelectorAll('.lotse-button'))"
        ".find(b => b.innerText === 'Press prices').click()"
    )
    wait_for(lambda: any("140,000 EUR" in t for t in bot_texts(driver)))
    assert texts(driver, ".lotse-visitor") == ["Press prices"]

    box = driver.find_element(By.CSS_SELECTOR, ".lotse-input")
    box.send_keys("How long is the warranty?")
    box.submit()
    wait_for(lambda: any("24 months" in t for t in bot_texts(driver)))

    # A visitor text is shown as text, never run as HTML.
    box.send_keys('<img src=x onerror="window.pwned=1"> hello')
    box.submit()
    wait_for(lambda: len(texts(driver, ".lotse-visitor")) == 3)
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, ".lotse-busy"))
    assert driver.execute_script("return window.pwned") is None

    transcript = bot_texts(driver)
    driver.refresh()
    assert wait_for(lambda: bot_texts(driver)) == transcript
    sender = driver.execute_script(
        "return JSON.parse(localStorage.getItem('lotse.chat.v1')).sender"
    )
    assert sender.startswith("web-")
