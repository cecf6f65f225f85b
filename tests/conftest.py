"""Shared fixtures: a real headless Chromium (Debian's package) driven by Playwright."""
import os
import shutil

import pytest

CHROMIUM_PATH = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's hosts at start,
# which this sandbox (and CI) refuses; those requests would also pollute request checks.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium for the whole session. A missing browser is a failure, not a skip."""
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM_PATH) and not os.path.exists(CHROMIUM_PATH):
        pytest.fail(f"Chromium not found at {CHROMIUM_PATH}; install Debian's 'chromium' package")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh page whose console errors and page errors are collected in page.errors."""
    context = browser.new_context()
    new_page = context.new_page()
    new_page.errors = []
    new_page.on("pageerror", lambda exc: new_page.errors.append(f"pageerror: {exc}"))
    new_page.on(
        "console",
        lambda msg: new_page.errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    yield new_page
    context.close()


@pytest.fixture
def threads_of_this_test(monkeypatch):
    """threading.active_count() counting only the threads this test starts (and the main one): a
    thread an earlier test module left for the process's life (fsspec's event loop, once s3fs is
    used) would otherwise refuse every fork that tracker/forked_work.py may make."""
    import threading

    real_count = threading.active_count
    left_running = real_count() - 1
    monkeypatch.setattr(threading, "active_count", lambda: real_count() - left_running)
