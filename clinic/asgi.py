import os

from django.core.asgi import get_asgi_application

from clinic.startup import settle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_asgi_application()
settle()
