from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.utils.decorators import method_decorator

from records.actions.accounts import account_change_password
from records.actions.context import actor_from_request
from records.views.common import apply_action_errors


@method_decorator(transaction.atomic, name="post")
class LoginView(auth_views.LoginView):
    """Django's log-in; the log-in and its audit event commit together."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form):
        try:
            account_change_password(
                actor=actor_from_request(self.request),
                account=self.request.user,
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            apply_action_errors(form, ValidationError({"new_password2": exc.messages}))
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Your password was changed.")
        return redirect("home")
