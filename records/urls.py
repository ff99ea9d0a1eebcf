from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from records.views import accounts, audit, auth, clinic, home, patients, review, sessions, worklists

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", login_not_required(auth.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("patients/", patients.patient_list, name="patient_list"),
    path("patients/new/", patients.patient_register, name="patient_register"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient_detail"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/deactivate/", patients.patient_deactivate_view, name="patient_deactivate"),
    path("patients/<int:pk>/reactivate/", patients.patient_reactivate_view, name="patient_reactivate"),
    path("patients/<int:pk>/history/", review.patient_history, name="patient_history"),
    path("patients/<int:pk>/intake/", review.patient_intake, name="patient_intake"),
    path("patients/<int:pk>/intake/edit/", review.patient_intake_edit, name="patient_intake_edit"),
    path("patients/<int:pk>/outcomes/new/", review.patient_outcome_new, name="patient_outcome_new"),
    path("patients/<int:pk>/summary.pdf", review.patient_summary_pdf, name="patient_summary_pdf"),
    path("patients/<int:pk>/sessions/new/", sessions.patient_session_new, name="patient_session_new"),
    path("sessions/today/", sessions.session_board, name="session_board"),
    path("sessions/<int:pk>/", sessions.session_detail, name="session_detail"),
    path("sessions/<int:pk>/arrive/", sessions.session_arrive_view, name="session_arrive"),
    path("sessions/<int:pk>/begin-screening/", sessions.session_begin_screening_view, name="session_begin_screening"),
    path("sessions/<int:pk>/cancel/", sessions.session_cancel_view, name="session_cancel"),
    path("sessions/<int:pk>/screening/", sessions.session_screening, name="session_screening"),
    path(
        "sessions/<int:pk>/screening/decision/", sessions.session_screening_decision, name="session_screening_decision"
    ),
    path("sessions/<int:pk>/orders/new/", sessions.session_order_new, name="session_order_new"),
    path(
        "sessions/<int:pk>/administration/start/",
        sessions.session_administration_start,
        name="session_administration_start",
    ),
    path(
        "sessions/<int:pk>/administration/pause/",
        sessions.session_administration_pause,
        name="session_administration_pause",
    ),
    path(
        "sessions/<int:pk>/administration/resume/",
        sessions.session_administration_resume,
        name="session_administration_resume",
    ),
    path(
        "sessions/<int:pk>/administration/stop/",
        sessions.session_administration_stop,
        name="session_administration_stop",
    ),
    path("sessions/<int:pk>/vitals/", sessions.session_vitals_record, name="session_vitals_record"),
    path("sessions/<int:pk>/vitals/entered-in-error/", sessions.session_vitals_error, name="session_vitals_error"),
    path("sessions/<int:pk>/side-effects/", sessions.session_side_effect_record, name="session_side_effect_record"),
    path(
        "sessions/<int:pk>/side-effects/resolve/",
        sessions.session_side_effect_resolve,
        name="session_side_effect_resolve",
    ),
    path("sessions/<int:pk>/discharge/", sessions.session_discharge, name="session_discharge"),
    path("sessions/<int:pk>/sign/", sessions.session_sign_view, name="session_sign"),
    path("sessions/<int:pk>/cosign/", sessions.session_cosign_view, name="session_cosign"),
    path("sessions/<int:pk>/addenda/", sessions.session_addendum, name="session_addendum"),
    path("clinic/settings/", clinic.clinic_settings, name="clinic_settings"),
    path("sessions/<int:pk>/record.pdf", review.session_pdf, name="session_pdf"),
    path("worklist/", worklists.physician_worklist, name="physician_worklist"),
    path("orders/<int:pk>/cosign/", worklists.order_cosign_view, name="order_cosign"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("accounts/", accounts.account_list, name="account_list"),
    path("accounts/new/", accounts.account_new, name="account_new"),
    path("accounts/<int:pk>/role/", accounts.account_role, name="account_role"),
    path("accounts/<int:pk>/deactivate/", accounts.account_deactivate, name="account_deactivate"),
    path("accounts/<int:pk>/reactivate/", accounts.account_reactivate, name="account_reactivate"),
]
