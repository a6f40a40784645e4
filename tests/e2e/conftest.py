"""
Browser journeys: Playwright driving Debian's chromium (/usr/bin/chromium; never a downloaded one)
against pytest-django's live_server. One browser for all of tests/e2e, a fresh context per test,
every test at two viewports. A test fails if the page logged a console error, threw, or a request
failed.
"""

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.e2e.helpers import log_in

E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR.parent.parent / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Viewport:
    id: str
    context_options: dict


VIEWPORTS = [
    Viewport("desktop", {"viewport": {"width": 1280, "height": 800}}),
    Viewport(
        "phone",
        {
            "viewport": {"width": 390, "height": 844},
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 2,
        },
    ),
]


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser journeys (Playwright + Debian chromium)")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marker
def pytest_collection_modifyitems(config, items):
    missing = None if CHROMIUM.exists() else pytest.mark.skip(reason=f"e2e: no browser at {CHROMIUM}")
    for item in items:
        if Path(item.path).is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
            if missing:
                item.add_marker(missing)


@pytest.fixture(scope="package")
def browser():
    """
    Debian's chromium, headless, shared by every test under tests/e2e (contexts are per test).

    Package scope, not session: while Playwright runs, its event loop is the running loop of this
    thread, so Django refuses ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set; both end with the
    e2e tests (which pytest-django runs together, being transactional), so the rest of the suite,
    and the processes it starts (`check --deploy` flags the variable), never see either.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.skip(f"e2e: no browser at {CHROMIUM}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
        finally:
            playwright.stop()


@pytest.fixture(params=VIEWPORTS, ids=[viewport.id for viewport in VIEWPORTS])
def viewport(request):
    """Each journey runs on a desktop (1280×800) and a phone (390×844, touch, 2× pixels)."""
    return request.param


@dataclass
class BrowserProblems:
    """Console errors, uncaught exceptions and failed requests seen during one test."""

    origin: str
    seen: list = field(default_factory=list)
    allowed: list = field(default_factory=list)

    def allow(self, pattern):
        """Let a test expect a problem (e.g. a deliberate 404): ignore those matching `pattern`."""
        self.allowed.append(re.compile(pattern))

    def add(self, problem):
        self.seen.append(problem)

    def on_console(self, message):
        if message.type == "error":
            where = message.location
            self.add(f"console error: {message.text} ({where['url']}:{where['lineNumber']})")

    def on_web_error(self, web_error):
        self.add(f"uncaught exception: {web_error.error}")

    def on_request_failed(self, request):
        # The browser cancelled it (a navigation interrupting the favicon or an image, a download):
        # nothing the server did.
        if request.failure == "net::ERR_ABORTED":
            return
        self.add(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(self, response):
        if response.status >= 400 and urlsplit(response.url)[:2] == urlsplit(self.origin)[:2]:
            self.add(f"HTTP {response.status}: {response.request.method} {response.url}")

    def unexpected(self):
        return [p for p in self.seen if not any(pattern.search(p) for pattern in self.allowed)]


@pytest.fixture
def browser_problems(live_server):
    """The problems the `page` fixture collects; call `.allow(regex)` to expect one."""
    return BrowserProblems(origin=live_server.url)


@pytest.fixture
def page(browser, viewport, live_server, browser_problems):
    """
    A page in a fresh browser context (zh-CN, Asia/Shanghai, the test's viewport) whose base URL is
    the live server, so `page.goto("/contributions/pay/")` works. Fails the test at teardown if the
    browser logged a console error, threw, or a same-origin request failed or answered ≥ 400.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **viewport.context_options,
    )
    context.set_default_timeout(10_000)
    context.on("console", browser_problems.on_console)
    context.on("weberror", browser_problems.on_web_error)
    context.on("requestfailed", browser_problems.on_request_failed)
    context.on("response", browser_problems.on_response)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    problems = browser_problems.unexpected()  # before closing, which aborts what is still loading
    context.close()
    if problems:
        pytest.fail("the browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def shot(viewport):
    """
    shot(page, name): save a full-page PNG as docs/screenshots/<name>-<viewport>.png (kept in the
    repository and shown in the README, so keep names stable: home, login, notice, ...).
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = SCREENSHOTS / f"{name}-{viewport.id}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide", scale="css")
        return path

    return take


@pytest.fixture
def seeded(transactional_db):
    """
    The demo data (`manage.py seed_demo`, reference data included: a live-server test is transactional
    and the flush after each one empties every table), committed so the live server sees it."""
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def logged_in(seeded, page):
    """The page, logged in as the demo flexible worker 张灵活 (linghuo) through the login page."""
    log_in(page, "linghuo")
    return page
