"""WSGI entry point (``onecard serve`` runs granian or gunicorn on ``onecard.wsgi:application``).

Terminal protocol requests (``/terminal/v1/``) take the lean path, ``TerminalGateway``: the same
protocol code as the DRF views without Django's middleware stack, URL resolver and DRF dispatch
(``onecard/terminals/protocol/gateway.py`` says what it keeps of them). Everything else goes to
Django's handler, ``django_application``. In front of both, ``ProcessEnvironmentFilter``
keeps the process environment (which granian copies into every request) out of ``request.META``.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onecard.settings")
django_application = get_wsgi_application()

from onecard.core.environ import ProcessEnvironmentFilter  # noqa: E402 - after setup()
from onecard.terminals.protocol.gateway import TerminalGateway  # noqa: E402

gateway = TerminalGateway(django_application)
application = ProcessEnvironmentFilter(gateway)
