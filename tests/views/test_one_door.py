"""One door: every page is the app's own, behind its audited actions.

There is no Django admin site (it showed audit events, changed a password without an
audit event and stepped around the first-log-in password rule), and none of Django's
own authentication views is served as it is: the three the app uses are subclassed or
audited by signal, each listed below with the reason.
"""

import inspect

import pytest
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import URLResolver, get_resolver

from records.models import AuditEvent
from records.views import auth as app_auth
from tests.views.test_access_matrix import ADMIN, ANON, NURSE, PHYSICIAN, _flat_patterns

# URL name -> why Django's view (or a subclass of it) may be served.
DJANGO_AUTH_VIEWS_ALLOWED = {
    "login": "records.views.auth.LoginView: log-ins and failures are audited by the user_logged_in and "
    "user_login_failed signals (records.signals), the authenticator step follows (records.middleware)",
    "logout": "LogoutView (POST only): the log-out is audited by the user_logged_out signal (records.signals)",
    "password_change": "records.views.auth.PasswordChangeView: form_valid saves through the audited action "
    "account_change_password, never through the form's own save()",
}

ADMIN_PATHS = [
    "/django-admin/",
    "/django-admin/login/",
    "/django-admin/records/auditevent/",
    "/django-admin/auth/user/1/password/",
    "/admin/",
]


def django_auth_view_class(callback):
    """The class from django.contrib.auth.views a URL's view is, or derives from; None for the app's own views."""
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return None
    for klass in inspect.getmro(view_class):
        if klass.__module__ == auth_views.__name__:
            return klass
    return None


def test_the_django_admin_app_is_not_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    namespaces = {entry.namespace for entry in get_resolver().url_patterns if isinstance(entry, URLResolver)}
    assert "admin" not in namespaces


def test_no_django_auth_view_is_served_except_the_audited_ones():
    served = {pattern.name: django_auth_view_class(pattern.callback) for pattern in _flat_patterns()}
    assert {name for name, klass in served.items() if klass is not None} == set(DJANGO_AUTH_VIEWS_ALLOWED)
    # The password change saves through the action, not through Django's form_valid (form.save()).
    assert served["password_change"] is auth_views.PasswordChangeView
    assert app_auth.PasswordChangeView.form_valid is not auth_views.PasswordChangeView.form_valid


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANON, NURSE, PHYSICIAN, ADMIN])
@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_django_admin_answers_404_for_everyone(client, make_user, role, path):
    if role != ANON:
        client.force_login(make_user(role))
    events = AuditEvent.objects.count()

    assert client.get(path).status_code == 404
    assert client.post(path, {"username": "admin_a", "password": "x"}).status_code in (403, 404)
    assert AuditEvent.objects.exclude(action="access_denied").count() == events


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/password_change/done/",
        "/password_reset/",
        "/reset/MQ/set-password/",
        "/accounts/login/",
        "/accounts/password_change/",
    ],
)
def test_djangos_stock_auth_paths_are_not_served(client, admin_user, path):
    client.force_login(admin_user)
    assert client.get(path).status_code == 404
