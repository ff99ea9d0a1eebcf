"""Response headers, cookies and Django's deployment check under production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def page(client, nurse):
    client.force_login(nurse)
    return client.get("/patients/", secure=True)


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_content_security_policy_allows_only_our_origin_and_nonces(page):
    csp = directives(page)
    assert csp["default-src"] == ["'self'"]
    # Every page hands its nonce to htmx (base.html), so fragments it swaps in can use it.
    for directive in ("script-src", "style-src"):
        assert csp[directive][0] == "'self'"
        assert len(csp[directive]) == 2
        assert re.fullmatch(r"'nonce-[A-Za-z0-9_-]{16,}'", csp[directive][1])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    policy = page["Content-Security-Policy"]
    for forbidden in ("unsafe-inline", "unsafe-eval", "http:", "https:", "*"):
        assert forbidden not in policy


def render_with_nonce(rf, user):
    """An inline SVG chart's <style nonce="{{ csp_nonce }}">, rendered and sent through the CSP middleware."""
    import re

    from django.http import HttpResponse
    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.template import engines

    request = rf.get("/")
    request.user = user
    middleware = ContentSecurityPolicyMiddleware(lambda r: None)
    middleware.process_request(request)
    html = engines["django"].from_string('<svg><style nonce="{{ csp_nonce }}">.a{}</style></svg>').render({}, request)
    response = middleware.process_response(request, HttpResponse(html))
    return re.search(r'nonce="([^"]+)"', html).group(1), directives(response)


def test_a_template_nonce_is_allowed_by_the_header_and_fresh_each_time(rf, nurse):
    nonce, csp = render_with_nonce(rf, nurse)
    assert csp["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    again, _ = render_with_nonce(rf, nurse)
    assert again != nonce and len(nonce) >= 16


def test_pages_have_no_inline_script_or_style(page):
    html = page.content.decode()
    assert "<script>" not in html and "<script " not in html.replace("<script src=", "")
    assert "style=" not in html
    assert "<style" not in html


def test_htmx_needs_no_eval_or_inline_styles(page):
    html = page.content.decode()
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html


def test_other_security_headers(page):
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"
    policy = page["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "usb=()"):
        assert feature in policy


def test_the_login_page_has_the_headers_too(client):
    response = client.get(reverse("login"), secure=True)
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


def test_session_cookie_is_secure_httponly_lax(client, nurse):
    from tests.conftest import PASSWORD, verified_device

    verified_device(nurse)
    response = client.post(reverse("login"), {"username": "nurse_a", "password": PASSWORD}, secure=True)
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_check_deploy_is_clean_under_production_settings():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "a-long-random-production-secret-key-for-the-deploy-check-0123456789abcdef",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "clinic.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://clinic.example.org",
        "SECURE_SSL_REDIRECT": "1",
        "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'deploy-check.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
