"""WSGI entry point (gunicorn serves ``onecard.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onecard.settings")
application = get_wsgi_application()
