"""Real-browser tests: Playwright driving Debian's Chromium against a live server.

Outside CI a missing browser skips these tests with the reason; with CI=true it
is an error, because the flows people use must be exercised there.
"""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() == "true"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var" / "screenshots"))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        if IN_CI:
            pytest.fail("Chromium is required for the browser tests in CI (apt-get install chromium).")
        pytest.skip("Browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def playwright(playwright):
    """Playwright, and the Django connections made while it ran closed before it stops.

    Playwright's synchronous API keeps an event loop marked as running in the main thread. While it
    is, Django keeps that thread's connections apart from those it keeps without a loop (asgiref's
    thread-critical Local). Tests after the browser started hold connections of the first kind;
    once Playwright stops, the test database's teardown sees only the second and closes those. One
    left open (the last test's, still taken from the pool) kept the database from being dropped
    ("being accessed by other users"), which pyproject.toml now makes an error.
    """
    yield playwright
    from django.db import connections

    connections.close_all()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Pages as a person who asked for reduced motion sees them: Bootstrap then scrolls at once and
    fades nothing. Otherwise each click on a button below the fold waits out a smooth scroll (about a
    second) before Playwright finds the button still."""
    return {**browser_context_args, "reduced_motion": "reduce"}


@pytest.fixture
def shot():
    """Save a full-page screenshot under var/screenshots/ for a person to look at.

    SCREENSHOTS=0 takes none (`make test` takes them in its SQLite run only: the same pages).
    """

    def take(page, name: str):
        if os.environ.get("SCREENSHOTS") == "0":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


def axe_violations(page) -> list[str]:
    """Accessibility problems axe-core finds on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} at {[node['target'] for node in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]


def current_code(device) -> str:
    """The code an authenticator app shows now for `device`."""
    from django_otp.oath import TOTP

    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def log_in(page, live_server, username: str, password: str):
    """Log in fully: password, then the code from the user's authenticator app.

    A test user without an app gets one set up first (as enrolment would), so
    that the code step runs as it does for people.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from records.middleware import mfa_exempt
    from records.models import User
    from tests.conftest import verified_device

    user = User.objects.filter(username=username).first()
    device = verified_device(user) if user is not None and not mfa_exempt(user) else None
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if device is not None and "/login/code/" in page.url:
        # Each code is accepted once: let a second log-in in the same 30 s use the current one.
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
        page.get_by_label("Authenticator code").fill(current_code(device))
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()


def sign_in(page, live_server, username: str, path: str = "/"):
    """Signed in as `username` (password and authenticator code given), then at `path`.

    For the tests of what comes after signing in: the sign-in is made as `client.force_login` makes
    one, and its cookie given to the browser. The sign-in pages themselves are driven by `log_in`
    (test_sign_in_security, test_idle_restore and the session at the chair).
    """
    from django.conf import settings

    from records.models import User
    from tests.conftest import signed_in_session

    key = signed_in_session(User.objects.get(username=username))
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": live_server.url}])
    page.goto(f"{live_server.url}{path}")


@contextmanager
def vitals_answer_awaited(page):
    """The block sends a reading (Enter in the vitals form); afterwards, wait until htmx has settled its answer.

    The answer is swapped in, and only when it settles (htmx's settle delay later) does the entry row take
    the focus back (Systolic, after a saved reading, records/static/records/vitals.js). A step taken before
    then could find the focus moved under it.
    """
    page.evaluate(
        """() => {
            window.vitalsAnswerSettled = false;
            if (!window.vitalsAnswerWatched) {
                window.vitalsAnswerWatched = true;
                document.body.addEventListener("htmx:afterSettle", (event) => {
                    if (event.target.id === "vitals-entry") window.vitalsAnswerSettled = true;
                });
            }
        }"""
    )
    yield
    page.wait_for_function("() => window.vitalsAnswerSettled === true")


def press_enter_and_wait_for_the_vitals_answer(page) -> None:
    """Enter in the vitals form, then wait until htmx has settled its answer in place."""
    with vitals_answer_awaited(page):
        page.keyboard.press("Enter")


class StillClocks:
    """The server's clock and the page's, both standing still; `advance` moves them on together.

    For what happens after minutes without a request (the idle warning, the sign-out): the test
    moves time on instead of waiting for it, and no request the page's timers make sees a server
    clock that has moved further (or less) than the page's.
    """

    def __init__(self, server, page):
        self.server = server
        self.page = page

    def advance(self, seconds: float) -> None:
        self.server.shift(seconds)
        # Each timer due in the meantime fires once (a poll every 2 s does not send one request per 2 s).
        self.page.clock.fast_forward(int(seconds * 1000))

    def axe_violations(self) -> list[str]:
        """axe-core waits on the page's timers: the page's clock runs while it looks, and the
        server's moves on by as much, so that they still agree afterwards."""
        before = self.page.evaluate("Date.now()")
        self.page.clock.resume()
        try:
            return axe_violations(self.page)
        finally:
            # Stopped a little ahead (the page's time runs on between reading it and stopping it).
            after = self.page.evaluate("Date.now()") + 10_000
            self.page.clock.pause_at(after / 1000)
            self.server.shift((after - before) / 1000)


@pytest.fixture
def still_clocks(page):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    import time_machine
    from django.conf import settings

    from tests.conftest import CLINIC_DAY

    start = CLINIC_DAY.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    page.clock.install(time=start - timedelta(seconds=1))
    page.clock.pause_at(start)
    with time_machine.travel(start, tick=False) as server:
        yield StillClocks(server, page)


@pytest.fixture(scope="session", autouse=True)
def _static_files_served_and_kept_as_in_production():
    """The live server serves static files as production does, and the browser keeps them.

    Left to itself the live server answers static files through Django's finders with no caching
    header, and its responses are dated by the tests' clock (CLINIC_DAY, days before the browser's
    own clock), so a file was stale on arrival: the browser asked again for every script and
    stylesheet of every page (168 of 212 requests in the whole-session test). Here WhiteNoise, as in
    production, serves them with its max-age, and each response is dated by the real clock the
    browser ages its cache by.
    """
    from email.utils import formatdate

    import time_machine
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            if not any(name.lower() == "date" for name, _ in headers):
                headers.append(("Date", formatdate(time_machine.escape_hatch.time.time(), usegmt=True)))
            return start_response(status, headers, exc_info)

        return self.application(environ, start)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StaticFilesHandler, "__call__", __call__)
        yield
