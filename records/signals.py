"""Authentication events recorded in the audit log.

Django announces log-ins, log-outs and failures (django-axes, lock-outs) through these signals; each
handler only hands over to the audit action.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from records.actions.accounts import audit_lockout, audit_login, audit_login_failed, audit_logout
from records.actions.context import Actor, actor_from_request


@receiver(user_logged_in, dispatch_uid="audit_login")
def _on_login(sender, request, user, **kwargs):
    audit_login(actor=actor_from_request(request, user))


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_logout(actor=actor_from_request(request, user))


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_login_failed(actor=Actor.anonymous(request, username=username), username=username)


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def _on_lockout(sender, request, username, ip_address, **kwargs):
    username = str(username or "")[:150]
    audit_lockout(actor=Actor.anonymous(request, username=username), username=username)
