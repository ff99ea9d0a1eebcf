from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("records.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "records.views.errors.permission_denied"
