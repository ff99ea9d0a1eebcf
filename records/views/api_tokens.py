"""Personal tokens for the FHIR read API, issued and revoked by an admin on the accounts page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from records.actions.context import ActionRefused, actor_from_request
from records.actions.fhir import api_token_issue, api_token_revoke
from records.forms.fhir import ApiTokenIssueForm, ApiTokenRevokeForm
from records.views.common import permission_required
from records.views.reauth import reauth_required

MANAGE = "manage_accounts"
ONLY_ADMINS = "Only an admin may manage accounts."


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
@reauth_required("issuing an API token")
def account_token_issue(request: HttpRequest) -> HttpResponse:
    """Issue a token and show it once; only its hash is kept."""
    form = ApiTokenIssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, "No token issued: choose an active account and say what the token is for.")
        return redirect("account_list")
    account = form.cleaned_data["account"]
    try:
        row, token = api_token_issue(actor=actor_from_request(request), account=account, name=form.cleaned_data["name"])
    except (ActionRefused, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("account_list")
    response = render(request, "records/accounts/token_issued.html", {"row": row, "token": token, "account": account})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required(MANAGE, ONLY_ADMINS)
@reauth_required("revoking an API token")
def account_token_revoke(request: HttpRequest) -> HttpResponse:
    form = ApiTokenRevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing revoked: that token does not exist or is already revoked.")
        return redirect("account_list")
    token = form.cleaned_data["token"]
    try:
        api_token_revoke(actor=actor_from_request(request), token=token, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Token {token.prefix}… of {token.account.username} revoked.")
    return redirect("account_list")
