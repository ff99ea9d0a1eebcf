import os

from django.core.wsgi import get_wsgi_application

from clinic.startup import settle

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()
settle()
