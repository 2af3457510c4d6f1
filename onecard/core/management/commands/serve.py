"""Serve OneCard with a production WSGI server (not runserver): granian by default, gunicorn on
request (``--server`` / ``ONECARD_SERVER``).

**granian** (the default) parses HTTP and keeps connections alive in compiled code (Rust), and
runs the application in ``--threads`` Python threads per worker process. A terminal call is a
few hundred microseconds of Python; gunicorn's own Python request handling and access log cost
as much again, so granian serves about half as much again per core (docs/benchmarks.md).
Idle keep-alive connections are closed after 30 s (its header read timeout).

**gunicorn** runs ``gthread`` workers of ``--threads`` threads, with keep-alive connections
(30 s) too. It is there for machines granian has no wheel for, and as a fallback.

Either way each worker thread keeps its own persistent database connection
(``ONECARD_CONN_MAX_AGE``): up to workers × threads connections.

The access log (one line per request on stdout) is on unless ``ONECARD_ACCESS_LOG`` is ``0``,
``off``, ``no`` or ``false``; any other value than ``1``/``on``/``-`` is a file to write it to.
"""

import json
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

KEEP_ALIVE_SECONDS = 30
GRACEFUL_SECONDS = 20
OFF = {"0", "off", "no", "false", "none"}
ON = {"", "1", "on", "yes", "true", "-"}
SERVERS = ("granian", "gunicorn")


def access_log_target(value):
    """The access log for an ``ONECARD_ACCESS_LOG`` value: ``-`` (stdout), a path, or None (no
    access log)."""
    value = (value if value is not None else "-").strip()
    if value.lower() in OFF:
        return None
    return "-" if value.lower() in ON else value


def granian_argv(options, access_log):
    host, _colon, port = options["bind"].rpartition(":")
    host = host.strip("[]")  # an IPv6 address as gunicorn takes it: [::1]:8000
    argv = [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host or "127.0.0.1", "--port", port,
        "--workers", str(options["workers"]),
        "--blocking-threads", str(max(1, options["threads"])),
        "--http1-header-read-timeout", str(KEEP_ALIVE_SECONDS * 1000),
        "--workers-kill-timeout", str(GRACEFUL_SECONDS),
        "--respawn-failed-workers", "--no-ws",
    ]
    if access_log is None:
        argv.append("--no-access-log")
    else:
        argv.append("--access-log")
        if access_log != "-":
            argv += ["--log-config", str(_granian_file_log_config(access_log))]
    return [*argv, "onecard.wsgi:application"]


def _granian_file_log_config(path):
    """A logging configuration (granian's ``--log-config``) that writes the access log to
    ``path`` and granian's own messages to stdout; kept in ``ONECARD_VAR_DIR``."""
    config = {
        "handlers": {
            "console": {"formatter": "generic", "class": "logging.StreamHandler",
                        "stream": "ext://sys.stdout"},
            "access": {"formatter": "access", "class": "logging.FileHandler",
                       "filename": str(path)},
        },
    }
    target = settings.VAR_DIR / "granian-logging.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=2))
    return target


def gunicorn_argv(options, access_log):
    argv = [
        sys.executable, "-m", "gunicorn", "onecard.wsgi:application",
        "--bind", options["bind"], "--workers", str(options["workers"]),
        "--worker-class", "gthread", "--threads", str(max(1, options["threads"])),
        # Terminals call every few seconds: gunicorn's default 2 s would close their idle
        # connections just before they are reused (the client then has to retry).
        "--keep-alive", str(KEEP_ALIVE_SECONDS),
        "--timeout", "60", "--graceful-timeout", str(GRACEFUL_SECONDS),
    ]
    if access_log:
        argv += ["--access-logfile", access_log]
    return argv


class Command(BaseCommand):
    help = "Serve the console, API and terminal gateway with granian (or gunicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ONECARD_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("ONECARD_WORKERS", "3")))
        parser.add_argument("--threads", type=int,
                            default=int(os.environ.get("ONECARD_THREADS", "4")),
                            help="application threads per worker process")
        parser.add_argument("--access-log", default=os.environ.get("ONECARD_ACCESS_LOG"),
                            help="'-' or '1': stdout (default); '0'/'off': none; else a file")
        parser.add_argument("--server", default=os.environ.get("ONECARD_SERVER", "granian"),
                            help="granian (default) or gunicorn")

    def handle(self, *args, **options):
        server = (options["server"] or "granian").strip().lower()
        if server not in SERVERS:
            raise CommandError(f"--server must be one of {', '.join(SERVERS)}, not {server!r}")
        access_log = access_log_target(options["access_log"])
        argv = (granian_argv if server == "granian" else gunicorn_argv)(options, access_log)
        sys.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 - replace this process with the server
