from django.urls import include, path

# One door: the app's own pages only. No Django admin site (it would read and change
# records without the actions' audit events and rules); /django-admin/ is a 404.
urlpatterns = [
    path("", include("records.urls")),
]

handler403 = "records.views.errors.permission_denied"
