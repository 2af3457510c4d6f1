"""The serving commands take their address, workers and server from the environment (README)."""

import json
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from onecard.core.environ import ProcessEnvironmentFilter, process_names
from onecard.core.management.commands import serve, up


@pytest.mark.parametrize("command", [up.Command, serve.Command])
def test_bind_and_workers_come_from_the_environment(command, monkeypatch):
    monkeypatch.setenv("ONECARD_BIND", "127.0.0.1:8123")
    monkeypatch.setenv("ONECARD_WORKERS", "5")
    options = command().create_parser("onecard", "x").parse_args([])
    assert (options.bind, options.workers) == ("127.0.0.1:8123", 5)


@pytest.mark.parametrize("command", [up.Command, serve.Command])
def test_bind_and_workers_default_to_local_port_8000(command, monkeypatch):
    monkeypatch.delenv("ONECARD_BIND", raising=False)
    monkeypatch.delenv("ONECARD_WORKERS", raising=False)
    options = command().create_parser("onecard", "x").parse_args([])
    assert (options.bind, options.workers) == ("127.0.0.1:8000", 3)


def test_serve_takes_threads_and_the_access_log_from_the_environment(monkeypatch):
    monkeypatch.setenv("ONECARD_THREADS", "6")
    monkeypatch.setenv("ONECARD_ACCESS_LOG", "off")
    options = serve.Command().create_parser("onecard", "x").parse_args([])
    assert (options.threads, serve.access_log_target(options.access_log)) == (6, None)


@pytest.mark.parametrize("value, target", [
    (None, "-"), ("", "-"), ("1", "-"), ("on", "-"), ("-", "-"), ("0", None), ("off", None),
    ("False", None), ("/var/log/onecard/access.log", "/var/log/onecard/access.log"),
])
def test_the_access_log_is_on_unless_switched_off(value, target):
    assert serve.access_log_target(value) == target


def _served(monkeypatch, *args, **environment):
    """The argv ``onecard serve`` would exec, for ``args`` and the environment given."""
    for name in ("ONECARD_THREADS", "ONECARD_ACCESS_LOG", "ONECARD_SERVER", "ONECARD_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    seen = []
    monkeypatch.setattr(serve.os, "execv", lambda path, argv: seen.append(argv))
    command = serve.Command()
    command.handle(**vars(command.create_parser("onecard", "x").parse_args(list(args))))
    return seen[0]


def test_serve_runs_granian_with_threads_keep_alive_and_the_access_log(monkeypatch):
    argv = _served(monkeypatch)
    assert argv[1:5] == ["-m", "granian", "--interface", "wsgi"]
    assert argv[-1] == "onecard.wsgi:application"
    assert (argv[argv.index("--host") + 1], argv[argv.index("--port") + 1]) == ("127.0.0.1",
                                                                               "8000")
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--blocking-threads") + 1] == "4"
    assert argv[argv.index("--http1-header-read-timeout") + 1] == "30000"
    assert "--access-log" in argv and "--log-config" not in argv
    assert "--no-access-log" in _served(monkeypatch, ONECARD_ACCESS_LOG="0")


def test_granian_writes_the_access_log_to_a_file_when_asked(monkeypatch, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    argv = _served(monkeypatch, "--bind", "[::1]:9000", ONECARD_ACCESS_LOG=str(tmp_path / "a.log"))
    assert (argv[argv.index("--host") + 1], argv[argv.index("--port") + 1]) == ("::1", "9000")
    config = json.loads(Path(argv[argv.index("--log-config") + 1]).read_text())
    assert config["handlers"]["access"]["filename"] == str(tmp_path / "a.log")
    assert config["handlers"]["access"]["class"] == "logging.FileHandler"


def test_serve_runs_gunicorn_with_threads_and_keep_alive(monkeypatch):
    argv = _served(monkeypatch, ONECARD_SERVER="gunicorn", ONECARD_ACCESS_LOG="0")
    assert argv[1:4] == ["-m", "gunicorn", "onecard.wsgi:application"]
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert argv[argv.index("--threads") + 1] == "4"
    assert argv[argv.index("--keep-alive") + 1] == "30"
    assert "--access-logfile" not in argv
    assert argv[argv.index("--workers") + 1] == "3"
    argv = _served(monkeypatch, "--server", "gunicorn")
    assert argv[argv.index("--access-logfile") + 1] == "-"


def test_serve_refuses_an_unknown_server(monkeypatch):
    with pytest.raises(CommandError, match="granian, gunicorn"):
        _served(monkeypatch, "--server", "runserver")


def test_the_process_environment_stays_out_of_requests():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return [b""]

    names = process_names({"DATABASE_URL": "postgres://u:secret@db/x", "PATH": "/bin",
                           "SERVER_NAME": "x", "HTTP_HOST": "x", "wsgi.errors": None})
    assert sorted(names) == ["DATABASE_URL", "PATH"]
    environ = {"DATABASE_URL": "postgres://u:secret@db/x", "PATH": "/bin", "SERVER_NAME": "h",
               "REQUEST_METHOD": "GET", "HTTP_HOST": "h", "wsgi.url_scheme": "http"}
    ProcessEnvironmentFilter(app, names)(environ, None)
    assert seen == {"SERVER_NAME": "h", "REQUEST_METHOD": "GET", "HTTP_HOST": "h",
                    "wsgi.url_scheme": "http"}


def test_the_served_application_filters_the_process_environment():
    from onecard import wsgi

    assert isinstance(wsgi.application, ProcessEnvironmentFilter)
    assert "PATH" in wsgi.application.names and wsgi.application.application is wsgi.gateway
