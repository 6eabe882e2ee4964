"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Tests here are marked `browser`. Without /usr/bin/chromium, or when it cannot start, they are
skipped with the reason, never passed silently. `live_server` brings the transactional database
with it, so whatever a test creates is visible to the server thread and flushed afterwards.
"""

import os
import re
from pathlib import Path

import pytest
from django.test import override_settings
from playwright.sync_api import Error, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, missing_real_part

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
SHOTS_DIR = Path("/tmp/e2e-shots")


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the whole e2e package.

    Package scope rather than session: while Playwright's sync API is started it keeps an
    asyncio loop running in the test thread. Left running for the session, every test pytest
    collects after this package (tests/forum, tests/tickets, ...) would meet it: Django's ORM
    refuses to run beside a loop, and so does asgiref's async_to_sync.
    """
    if not os.path.exists(CHROMIUM):
        missing_real_part(NO_CHROMIUM)
    with pytest.MonkeyPatch.context() as mp:
        # Tests create rows and check the database while that loop runs; Django's async-safety
        # check would raise SynchronousOnlyOperation for each of those calls.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            try:
                chromium = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
            except Error as error:
                reason = (str(error).strip().splitlines() or ["no error text"])[0]
                missing_real_part(
                    f"Chromium at {CHROMIUM} did not start ({reason}): "
                    "install Debian's chromium package"
                )
            yield chromium
            chromium.close()
        finally:
            playwright.stop()


@pytest.fixture(scope="package")
def live_server(request):
    """pytest-django's live server, built with SECURE_SSL_REDIRECT off.

    SecurityMiddleware reads that setting once, when the server thread builds its handler, so
    the per-test override in tests/conftest.py comes too late: every page would redirect to
    https on a port that speaks only http.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with override_settings(SECURE_SSL_REDIRECT=False):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(scope="package", autouse=True)
def _private_cache():
    """A cache of this process only, shared with the live server (a thread of this process).

    Presence warnings live in the cache for the ~10 s a test waits for them; the configured
    cache (var/cache, or a Redis database) is also cleared by every other test process and
    written by `make run`, which made the presence test flaky whenever those ran alongside.
    """
    cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "e2e"}
    with override_settings(CACHES={"default": cache}):
        yield


@pytest.fixture
def new_page(browser, live_server):
    """`new_page()` opens a page in a fresh context: its own cookies, so one context per person.

    An uncaught JavaScript error on any of the test's pages fails the test.
    """
    contexts = []
    errors = []

    def make():
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, "Uncaught JavaScript errors:\n" + "\n".join(errors)


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, user, password=PASSWORD):
    """Sign in through the real form at /account/login/, as a person would."""
    page.goto("/account/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/account/login/"))
    expect(page.locator(".account-menu summary")).to_contain_text(user.display_name)
    return page


@pytest.fixture
def signed_in():
    """The sign-in helper as a fixture: `signed_in(page, user)`."""
    return sign_in


@pytest.fixture
def screenshot(request):
    """`screenshot(page, "name")`: a full-page PNG in /tmp/e2e-shots/ for people to look at."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SHOTS_DIR / re.sub(r"[^\w.-]+", "_", f"{request.node.name}-{name}.png")
        # From the top: a page scrolled to #latest would show the sticky header mid-picture.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
