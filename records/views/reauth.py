"""Re-authentication before consequential actions: "confirm it is still you".

One mechanism for every such action: decorate the view with `reauth_required`.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from records.actions.accounts import audit_reauth
from records.actions.context import actor_from_request
from records.actions.mfa import confirmed_device, mfa_verify
from records.forms.auth import ReauthForm

REAUTH_AT_KEY = "reauth_at"
REAUTH_FAILURES_KEY = "reauth_failures"
REAUTH_FIELDS = {"reauth_password", "reauth_code", "csrfmiddlewaretoken"}


def recently_reauthenticated(request) -> bool:
    at = request.session.get(REAUTH_AT_KEY)
    return at is not None and 0 <= time.time() - at <= settings.REAUTH_WINDOW_SECONDS


def _check(request, form: ReauthForm, purpose: str) -> bool:
    """Check the password or code on a bound form; remember success for the re-auth window."""
    if not form.is_valid():
        return False
    user = request.user
    actor = actor_from_request(request)
    code = "".join(form.cleaned_data["reauth_code"].split())
    if form.cleaned_data["reauth_password"]:
        method = "password"
        ok = user.check_password(form.cleaned_data["reauth_password"])
    elif confirmed_device(user) is not None:
        method = "authenticator code"
        ok = code.isdigit() and mfa_verify(actor=actor, account=user, token=code) is not None
    else:
        method, ok = "authenticator code", False
    audit_reauth(actor=actor, succeeded=ok, method=method, purpose=purpose)
    if ok:
        request.session[REAUTH_AT_KEY] = time.time()
        request.session.pop(REAUTH_FAILURES_KEY, None)
        return True
    failures = request.session.get(REAUTH_FAILURES_KEY, 0) + 1
    request.session[REAUTH_FAILURES_KEY] = failures
    form.add_error(None, "That password or code is not right. Try again.")
    return False


def _safe_back(request) -> str:
    back = request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("home")


def _too_many_failures(request) -> bool:
    return request.session.get(REAUTH_FAILURES_KEY, 0) >= settings.REAUTH_MAX_FAILURES


def _signed_out(request):
    logout(request)
    messages.error(request, "Signed out after too many wrong passwords or codes. Log in again.")
    return redirect("login")


def reauth_required(purpose: str):
    """Ask for the password or an authenticator code again unless given in the last REAUTH_WINDOW_SECONDS.

    Use it on views that sign, co-sign, export audit data or change roles, inside
    the permission check so that a role without access gets its 403 first::

        @require_POST
        @permission_required("sign_session")
        @reauth_required("signing a session")
        def session_sign(request, pk): ...

    A POST without a recent re-authentication gets a confirmation page that posts
    the same fields back to the same URL together with the password or code, so
    nothing typed is lost; the view then runs with the original fields only. A GET
    (e.g. an export link) is sent to the `reauth` page, which returns to it. An
    htmx request gets `HX-Redirect` to the `reauth` page, which returns to the page
    the request came from; the person then repeats the action within the window.
    Successes and failures are audited; REAUTH_MAX_FAILURES wrong tries sign the
    person out.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if recently_reauthenticated(request):
                return view(request, *args, **kwargs)
            if getattr(request, "htmx", False):
                # A fragment cannot hold the confirmation page: send the whole tab to it, and back after.
                back = _safe_back(request)
                response = HttpResponse(status=204)
                response["HX-Redirect"] = f"{reverse('reauth')}?{urlencode({'next': back})}"
                return response
            if request.method != "POST":
                return redirect(f"{reverse('reauth')}?{urlencode({'next': request.get_full_path()})}")
            form = None
            if "reauth_password" in request.POST or "reauth_code" in request.POST:
                form = ReauthForm(request.POST)
                if _check(request, form, purpose):
                    original = request.POST.copy()
                    for name in REAUTH_FIELDS - {"csrfmiddlewaretoken"}:
                        original.pop(name, None)
                    request.POST = original
                    return view(request, *args, **kwargs)
                if _too_many_failures(request):
                    return _signed_out(request)
            carried = [
                (name, value) for name, values in request.POST.lists() if name not in REAUTH_FIELDS for value in values
            ]
            return render(
                request,
                "registration/reauth.html",
                {
                    "form": form or ReauthForm(),
                    "purpose": purpose,
                    "action": request.get_full_path(),
                    "carried": carried,
                    "cancel": _safe_back(request),
                },
            )

        wrapped.reauth_purpose = purpose
        return wrapped

    return decorator


@never_cache
@require_http_methods(["GET", "POST"])
def reauth(request):
    """The stand-alone confirmation page for GET links decorated with `reauth_required`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() would take any other word for a view's name (a 500).
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    form = ReauthForm(request.POST or None)
    if request.method == "POST":
        if _check(request, form, f"opening {target}"[:200]):
            return redirect(target)
        if _too_many_failures(request):
            return _signed_out(request)
    return render(
        request,
        "registration/reauth.html",
        {
            "form": form,
            "purpose": "this page",
            "action": reverse("reauth"),
            "carried": [("next", target)],
            "cancel": reverse("home"),
        },
    )
