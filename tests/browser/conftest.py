"""Browser tests: real Chromium through Playwright, against pytest-django's live server.

Every page a test visits is checked with axe-core for WCAG 2.1 A and AA violations.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
INSTALL_HINT = (
    "Browser tests need Chromium: install Debian's package (`sudo apt-get install chromium`) "
    "or point CHROMIUM_PATH at a Chromium binary."
)
CHROMIUM_ARGS = [
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def pytest_collection_modifyitems(config, items) -> None:
    browser_items = [item for item in items if "tests/browser/" in item.nodeid]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if not browser_items or chromium_path():
        return
    if os.environ.get("MEDIASPACE_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            f"MEDIASPACE_REQUIRE_BROWSER=1 but no Chromium found. {INSTALL_HINT}"
        )
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=INSTALL_HINT))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}}


def axe_violations(page) -> list[str]:
    """Return one line per WCAG 2.1 A/AA violation on the page as it is now.

    The page's load handler (AxeWatch) may be running axe already: axe refuses a second
    run at once, so this waits for it.
    """
    for _ in range(50):
        try:
            results = AXE.run(page, options=AXE_OPTIONS)
            break
        except PlaywrightError as error:
            if "Axe is already running" not in str(error):
                raise
            page.wait_for_timeout(100)
    else:
        raise AssertionError("axe kept running on the page for five seconds")
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{page.url}: {violation['id']} ({violation['impact']}): {targets}")
    return lines


class AxeWatch:
    """Run axe on every page that loads, and once more on the final state."""

    def __init__(self, page) -> None:
        self.page = page
        self.violations: list[str] = []
        self.checked: list[str] = []
        # Playwright runs the load handler while another call waits, so a check can start
        # while one is under way: the second then waits for the first, as axe requires.
        self.running = False
        page.on("load", self.on_load)

    def on_load(self, page) -> None:
        try:
            self.check()
        except PlaywrightError as error:
            # The page navigated on or closed while axe ran: the next load is checked.
            if "closed" not in str(error) and "destroyed" not in str(error):
                raise

    def check(self) -> None:
        for _ in range(50):
            if not self.running:
                break
            self.page.wait_for_timeout(100)
        if self.page.is_closed() or self.page.url.startswith("about:"):
            return
        self.running = True
        try:
            self.checked.append(self.page.url)
            self.violations.extend(axe_violations(self.page))
        finally:
            self.running = False


@pytest.fixture
def axe_watch(page) -> AxeWatch:
    return AxeWatch(page)


@pytest.fixture
def csp_errors(page) -> list[str]:
    """Collect console messages that report a Content-Security-Policy violation."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return errors


@pytest.fixture(autouse=True)
def _accessibility(request):
    """Fail a browser test on any axe violation on the pages it visited."""
    if "page" not in request.fixturenames:
        yield
        return
    watch: AxeWatch = request.getfixturevalue("axe_watch")
    yield
    watch.check()
    assert watch.checked, "axe checked no page"
    assert not watch.violations, "Accessibility violations:\n" + "\n".join(watch.violations)


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the real form."""

    def sign_in_as(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    return sign_in_as


def console_errors(page) -> list[str]:
    """Collect the page's console errors and uncaught exceptions (htmx reports a failed
    swap there, oobErrorNoTarget)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def live_room(room, olivia):
    """The room, Unlisted so that Paula can see it, with a live session Olivia started."""
    from mediaspace import services as media_services
    from mediaspace.models import MediaEntry
    from rooms import services

    media_services.media_status_set(actor=olivia, entry=room, status=MediaEntry.Status.UNLISTED)
    services.session_start(actor=olivia, entry=room)
    return room


@pytest.fixture
def moderator_page(browser, browser_context_args):
    """A second, separate browser context: another person at another computer."""
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()
