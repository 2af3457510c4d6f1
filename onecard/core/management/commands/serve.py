"""Serve OneCard with gunicorn, a production WSGI server (not runserver)."""

import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the console and API with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ONECARD_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("ONECARD_WORKERS", "3")))

    def handle(self, *args, **options):
        argv = [
            sys.executable, "-m", "gunicorn", "onecard.wsgi:application",
            "--bind", options["bind"], "--workers", str(options["workers"]),
            "--access-logfile", "-", "--timeout", "60", "--graceful-timeout", "20",
        ]
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replace this process with gunicorn
