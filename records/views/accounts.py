from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.actions.accounts import account_create, account_set_active, account_set_role
from records.actions.context import actor_from_request
from records.actions.mfa import mfa_reset
from records.fhir.selectors import api_tokens
from records.forms.accounts import AccountActiveForm, AccountCreateForm, AccountRoleForm
from records.permissions import Role, role_of
from records.selectors import account_get, accounts_list
from records.views.common import permission_required, run_action
from records.views.reauth import reauth_required

MANAGE = "manage_accounts"
ONLY_ADMINS = "Only an admin may manage accounts."


@require_GET
@permission_required(MANAGE, ONLY_ADMINS)
def account_list(request):
    accounts = [(account, role_of(account)) for account in accounts_list(user=request.user)]
    return render(
        request,
        "records/accounts/list.html",
        {
            "accounts": accounts,
            "api_tokens": api_tokens(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(MANAGE, ONLY_ADMINS)
def account_new(request):
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = run_action(
            request,
            lambda: account_create(
                actor=actor_from_request(request),
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                password=data["password"],
            ),
            form=form,
            # The password validators' messages name no field.
            field="password",
        )
        if result:
            messages.success(request, f"Account {result.value.username} created.")
            return redirect("account_list")
    return render(request, "records/accounts/form.html", {"form": form})


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
@reauth_required("changing a role")
def account_role(request, pk: int):
    account = account_get(user=request.user, pk=pk)
    form = AccountRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Role not changed: choose a role and give a reason.")
        return redirect("account_list")
    role = Role(form.cleaned_data["role"])
    run_action(
        request,
        lambda: account_set_role(
            actor=actor_from_request(request), account=account, role=role, reason=form.cleaned_data["reason"]
        ),
        success=f"{account.printed_name} is now {role.label}.",
    )
    return redirect("account_list")


def _set_active(request, pk: int, active: bool):
    account = account_get(user=request.user, pk=pk)
    form = AccountActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: give a reason.")
        return redirect("account_list")
    run_action(
        request,
        lambda: account_set_active(
            actor=actor_from_request(request), account=account, active=active, reason=form.cleaned_data["reason"]
        ),
        success=f"{account.printed_name} " + ("reactivated." if active else "deactivated."),
    )
    return redirect("account_list")


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
def account_deactivate(request, pk: int):
    return _set_active(request, pk, False)


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
def account_reactivate(request, pk: int):
    return _set_active(request, pk, True)


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
@reauth_required("requiring authenticator re-enrolment")
def account_mfa_reset(request, pk: int):
    """A lost or replaced phone: the account must set up its authenticator app again."""
    account = account_get(user=request.user, pk=pk)
    form = AccountActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: give a reason.")
        return redirect("account_list")
    run_action(
        request,
        lambda: mfa_reset(actor=actor_from_request(request), account=account, reason=form.cleaned_data["reason"]),
        success=f"{account.printed_name} must set up an authenticator app at the next log-in.",
    )
    return redirect("account_list")
