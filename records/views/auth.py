"""Signing in: password, lock-out, the authenticator step, a first password change, staying signed in."""

import math
import time
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.actions.accounts import account_change_password
from records.actions.context import actor_from_request
from records.actions.mfa import (
    confirmed_device,
    enrolment_device,
    mfa_enrol_confirm,
    mfa_enrol_new_key,
    mfa_verify,
    recovery_codes_left,
)
from records.forms.auth import LoginForm, MfaEnrolForm, MfaVerifyForm
from records.middleware import LAST_ACTIVITY_KEY, is_background, mfa_exempt
from records.views.common import run_action

ENROL_KEY = "mfa_enrol_key"
MFA_FAILURES_KEY = "mfa_failures"
LOCKED_OUT_MESSAGE = (
    "Too many failed log-ins. Log-in with this username from this device is paused for {minutes} minutes. "
    "Wait, then try again, or ask an admin for help."
)


@method_decorator(transaction.atomic, name="post")
class LoginView(auth_views.LoginView):
    """Django's log-in (which gives the session a new key); the log-in and its audit event commit together."""

    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_success_url(self):
        """After the password, straight to the authenticator step (the page asked for comes after it)."""
        target = super().get_success_url()
        user = self.request.user
        if not user.is_authenticated or mfa_exempt(user):
            return target
        step = "mfa_verify" if confirmed_device(user) is not None else "mfa_enrol"
        return f"{reverse(step)}?{urlencode({'next': target})}"


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lock-out page: the log-in form with one message, the same whether or not the username exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/login.html",
        {"form": LoginForm(request), "locked_out": LOCKED_OUT_MESSAGE.format(minutes=minutes)},
        status=429,
    )


def _next_url(request, default="home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def _complete_second_factor(request, device) -> None:
    otp_login(request, device)
    # A new session key once the sign-in is complete, as at the password step.
    request.session.cycle_key()
    request.session.pop(MFA_FAILURES_KEY, None)


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify_view(request):
    """Second sign-in step: a code from the authenticator app, or a recovery code."""
    user = request.user
    if user.is_verified() or mfa_exempt(user):
        return redirect(_next_url(request))
    if confirmed_device(user) is None:
        return redirect("mfa_enrol")
    form = MfaVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        matched = mfa_verify(actor=actor_from_request(request), account=user, token=form.cleaned_data["code"])
        if matched is not None:
            _complete_second_factor(request, confirmed_device(user))
            left = recovery_codes_left(user)
            if not isinstance(matched, TOTPDevice):
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. If your phone is lost, ask an admin to reset "
                    "your authenticator app.",
                )
            return redirect(_next_url(request))
        failures = request.session.get(MFA_FAILURES_KEY, 0) + 1
        request.session[MFA_FAILURES_KEY] = failures
        if failures >= settings.AXES_FAILURE_LIMIT:
            logout(request)
            messages.error(request, "Too many wrong codes. Log in again.")
            return redirect("login")
        form.add_error(
            "code",
            "That code is not right, or was already used. Type the 6-digit code your app shows now "
            "(wait a few seconds after a wrong one), or a recovery code.",
        )
    return render(request, "registration/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")})


def _qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    # Generated by qrcode from our own URL: no user input reaches the markup.
    return mark_safe(  # noqa: S308
        svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" class="qr-code" ', 1)
    )


def _base32_key(device: TOTPDevice) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol_view(request):
    """Set up the authenticator app: QR code shown once, then the recovery codes shown once.

    Opening the page writes nothing: the new key lives in the login session until a POST
    with a code from the app saves it (records.actions.mfa.mfa_enrol_confirm, audited).
    """
    user = request.user
    if confirmed_device(user) is not None:
        return redirect(_next_url(request) if user.is_verified() else "mfa_verify")
    actor = actor_from_request(request)
    key = request.session.get(ENROL_KEY) if request.method == "POST" else None
    form = MfaEnrolForm(request.POST or None)
    if request.method == "POST" and key and form.is_valid():
        result = run_action(
            request,
            lambda: mfa_enrol_confirm(actor=actor, account=user, key=key, token=form.cleaned_data["token"]),
            form=form,
        )
        if result:
            codes = result.value
            request.session.pop(ENROL_KEY, None)
            _complete_second_factor(request, confirmed_device(user))
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
    if key is None:
        # A fresh key each time the page is shown: the QR code is never shown twice.
        key = mfa_enrol_new_key(actor=actor, account=user)
        request.session[ENROL_KEY] = key
        if request.method == "POST":
            form = MfaEnrolForm()
            messages.error(request, "That set-up had expired; scan this new code.")
    # A wrong code keeps the same key, so the person need not scan again.
    device = enrolment_device(user, key)
    return render(
        request,
        "registration/mfa_enrol.html",
        {"form": form, "qr_svg": _qr_svg(device), "key": _base32_key(device), "next": _next_url(request)},
    )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def session_keepalive(request):
    """GET (as a background refresh): seconds left before the idle sign-out. POST: "Stay signed in"."""
    if not request.user.is_authenticated:
        return JsonResponse({"remaining": 0}, status=401)
    last = request.session.get(LAST_ACTIVITY_KEY) or time.time()
    if request.method == "POST" and not is_background(request):
        last = time.time()  # the middleware records it as activity
    remaining = max(0, math.ceil(settings.IDLE_TIMEOUT_SECONDS - (time.time() - last)))
    return JsonResponse({"remaining": remaining, "timeout": settings.IDLE_TIMEOUT_SECONDS})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "first_change": self.request.user.must_change_password}

    def form_valid(self, form):
        changed = run_action(
            self.request,
            lambda: account_change_password(
                actor=actor_from_request(self.request),
                account=self.request.user,
                new_password=form.cleaned_data["new_password1"],
            ),
            form=form,
            # The password validators' messages name no field: show them under the new password.
            field="new_password2",
        )
        if not changed:
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Your password was changed.")
        return redirect("home")
