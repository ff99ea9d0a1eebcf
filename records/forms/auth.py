from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's log-in form; its one error never says whether the username exists."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The username and password do not match an active account. Both are case-sensitive.",
    }


class MfaVerifyForm(forms.Form):
    code = forms.CharField(
        label="Authenticator code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
        error_messages={"required": "Type the code your authenticator app shows."},
    )


class MfaEnrolForm(forms.Form):
    token = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="After scanning, type the 6-digit code the app shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Type the 6-digit code the app shows."},
    )


class ReauthForm(forms.Form):
    """Confirm it is still you: your password, or a code from your authenticator app."""

    reauth_password = forms.CharField(
        label="Your password",
        required=False,
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    reauth_code = forms.CharField(
        label="Or a code from your authenticator app",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("reauth_password") and not data.get("reauth_code", "").strip():
            raise forms.ValidationError("Type your password or a code from your authenticator app.")
        return data
