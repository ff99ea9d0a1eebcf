"""Real-browser tests: Playwright driving Debian's Chromium against a live server.

Outside CI a missing browser skips these tests with the reason; with CI=true it
is an error, because the flows people use must be exercised there.
"""

import os
import shutil
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


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        if IN_CI:
            pytest.fail("Chromium is required for the browser tests in CI (apt-get install chromium).")
        pytest.skip("Browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH).")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def shot():
    """Save a full-page screenshot under var/screenshots/ for a person to look at."""

    def take(page, name: str):
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
