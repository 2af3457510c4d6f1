"""Serve OneCard with gunicorn, a production WSGI server (not runserver).

Workers are gunicorn's ``gthread`` kind: each worker process runs ``--threads`` threads and keeps
HTTP connections alive between requests, so a terminal (or a proxy) sends request after request
on one connection instead of opening one per request as sync workers make it. A thread waiting
for the database lets another run, which is how a worker keeps a core busy. Each thread keeps
its own persistent database connection (``ONECARD_CONN_MAX_AGE``): up to workers × threads
connections.

The access log (one line per request on stdout) is on unless ``ONECARD_ACCESS_LOG`` is ``0``,
``off``, ``no`` or ``false``; any other value than ``1``/``on``/``-`` is a file to write it to.
"""

import os
import sys

from django.core.management.base import BaseCommand

KEEP_ALIVE_SECONDS = 30
OFF = {"0", "off", "no", "false", "none"}
ON = {"", "1", "on", "yes", "true", "-"}


def access_log_target(value):
    """gunicorn's ``--access-logfile`` for an ``ONECARD_ACCESS_LOG`` value: ``-`` (stdout), a
    path, or None (no access log)."""
    value = (value if value is not None else "-").strip()
    if value.lower() in OFF:
        return None
    return "-" if value.lower() in ON else value


class Command(BaseCommand):
    help = "Serve the console and API with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ONECARD_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("ONECARD_WORKERS", "3")))
        parser.add_argument("--threads", type=int,
                            default=int(os.environ.get("ONECARD_THREADS", "4")),
                            help="threads per worker (gthread workers, keep-alive connections)")
        parser.add_argument("--access-log", default=os.environ.get("ONECARD_ACCESS_LOG"),
                            help="'-' or '1': stdout (default); '0'/'off': none; else a file")

    def handle(self, *args, **options):
        argv = [
            sys.executable, "-m", "gunicorn", "onecard.wsgi:application",
            "--bind", options["bind"], "--workers", str(options["workers"]),
            "--worker-class", "gthread", "--threads", str(max(1, options["threads"])),
            # Terminals call every few seconds: gunicorn's default 2 s would close their idle
            # connections just before they are reused (the client then has to retry).
            "--keep-alive", str(KEEP_ALIVE_SECONDS),
            "--timeout", "60", "--graceful-timeout", "20",
        ]
        access_log = access_log_target(options["access_log"])
        if access_log:
            argv += ["--access-logfile", access_log]
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replace this process with gunicorn
