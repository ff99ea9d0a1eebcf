from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from records.views import accounts, audit, auth, home, patients, reauth

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", login_not_required(auth.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("login/code/", auth.mfa_verify_view, name="mfa_verify"),
    path("login/authenticator/", auth.mfa_enrol_view, name="mfa_enrol"),
    path("session/keepalive/", auth.session_keepalive, name="session_keepalive"),
    path("confirm/", reauth.reauth, name="reauth"),
    path("patients/", patients.patient_list, name="patient_list"),
    path("patients/new/", patients.patient_register, name="patient_register"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/deactivate/", patients.patient_deactivate_view, name="patient_deactivate"),
    path("patients/<int:pk>/reactivate/", patients.patient_reactivate_view, name="patient_reactivate"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
    path("audit/access/", audit.audit_patient_access, name="audit_patient_access"),
    path("audit/disclosures/", audit.audit_disclosures, name="audit_disclosures"),
    path("audit/activity/", audit.audit_user_activity, name="audit_user_activity"),
    path("accounts/", accounts.account_list, name="account_list"),
    path("accounts/new/", accounts.account_new, name="account_new"),
    path("accounts/<int:pk>/role/", accounts.account_role, name="account_role"),
    path("accounts/<int:pk>/deactivate/", accounts.account_deactivate, name="account_deactivate"),
    path("accounts/<int:pk>/reactivate/", accounts.account_reactivate, name="account_reactivate"),
    path("accounts/<int:pk>/authenticator/reset/", accounts.account_mfa_reset, name="account_mfa_reset"),
]
