from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from records.views import accounts, audit, auth, home, patients, review

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
    path("audit/", audit.audit_log, name="audit_log"),
    path("accounts/", accounts.account_list, name="account_list"),
    path("accounts/new/", accounts.account_new, name="account_new"),
    path("accounts/<int:pk>/role/", accounts.account_role, name="account_role"),
    path("accounts/<int:pk>/deactivate/", accounts.account_deactivate, name="account_deactivate"),
    path("accounts/<int:pk>/reactivate/", accounts.account_reactivate, name="account_reactivate"),
]
