"""Request-wide sign-in rules: idle time-out, the second factor, a first password change, headers."""

import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from records.actions.accounts import audit_idle_timeout
from records.actions.context import actor_from_request

LAST_ACTIVITY_KEY = "last_activity"
BACKGROUND_HEADER = "X-Background-Refresh"
# Pages a partly signed-in person may still reach.
SIGN_IN_STEPS = {"login", "logout", "mfa_verify", "mfa_enrol", "session_keepalive"}


def is_background(request) -> bool:
    """A request the page makes on its own (the board's polling), not something the person did."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def _login_redirect(request, target: str):
    """Send the browser to `target`; htmx requests get HX-Redirect so the whole page goes."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def page_of(request) -> str:
    """The page a request belongs to, as a path a GET can open again ("" when unknown).

    A GET is its own page, unless htmx sent it for a part of a page (a polled section):
    then the page is the one the browser shows (HX-Current-URL). A POST (or another method)
    was sent from a page: the Referer, when it is this site's own, names it. The request's
    own URL would not do: many accept POST only, and opening them again after a log-in
    answered 405; a polled section opened alone is a fragment, not a page.
    """
    if request.headers.get("HX-Request") == "true":
        return _own_path(request, request.headers.get("HX-Current-URL") or request.headers.get("Referer", ""))
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    return _own_path(request, request.headers.get("Referer", ""))


def _own_path(request, url: str) -> str:
    """The path and query of `url` when it is this site's own, else ""."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={host}, require_https=request.is_secure()):
        return ""
    parts = urlsplit(url)
    if not parts.netloc or not parts.path.startswith("/"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_next(url_name: str, request) -> str:
    url = reverse(url_name)
    target = page_of(request)
    sign_in_paths = {reverse(name) for name in ("login", "logout", "mfa_verify", "mfa_enrol")}
    if target and urlsplit(target).path not in sign_in_paths | {reverse("home")}:
        url += "?" + urlencode({"next": target})
    return url


class IdleTimeoutMiddleware:
    """Sign out a session that has had no request from its user for IDLE_TIMEOUT_SECONDS.

    Requests marked `X-Background-Refresh: 1` neither count as activity nor keep
    the session alive. The page's own timer (records/static/records/idle.js)
    warns a minute before and keeps unsaved input for after the next log-in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = time.time()
        if request.user.is_authenticated:
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.IDLE_TIMEOUT_SECONDS:
                audit_idle_timeout(actor=actor_from_request(request))
                logout(request)
                minutes = settings.IDLE_TIMEOUT_SECONDS // 60
                messages.info(
                    request,
                    f"You were signed out after {minutes} minutes without activity. Log in again to continue.",
                )
                return _login_redirect(request, _with_next("login", request))
        response = self.get_response(request)
        if request.user.is_authenticated and not is_background(request):
            request.session[LAST_ACTIVITY_KEY] = now
        return response


def mfa_exempt(user) -> bool:
    """Demo accounts (settings.MFA_EXEMPT_USERNAMES) skip the second factor, only while the server runs in demo mode."""
    return bool(settings.DEMO_MODE) and user.get_username() in settings.MFA_EXEMPT_USERNAMES


class SignInCompletionMiddleware:
    """A password alone is half a sign-in: insist on the second factor, then on a new password.

    Until the authenticator code is given, and until an admin-given temporary
    password is replaced, every other page sends the person to that step.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        name = request.resolver_match.url_name if request.resolver_match else None
        if name in {"logout", "session_keepalive"}:
            return None
        if not user.is_verified() and not mfa_exempt(user):
            if name in SIGN_IN_STEPS:
                return None
            from records.actions.mfa import confirmed_device

            step = "mfa_verify" if confirmed_device(user) is not None else "mfa_enrol"
            return _login_redirect(request, _with_next(step, request))
        if user.must_change_password and name != "password_change":
            messages.info(request, "Choose your own password before you continue.")
            return _login_redirect(request, reverse("password_change"))
        return None


class PermissionsPolicyMiddleware:
    """Permissions-Policy from settings.PERMISSIONS_POLICY ({feature: [allowed origins]})."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
