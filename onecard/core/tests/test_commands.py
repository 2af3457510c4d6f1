"""The serving commands take their address and worker count from the environment (README)."""

import pytest

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


def test_serve_runs_gunicorn_with_threads_and_keep_alive(monkeypatch):
    monkeypatch.delenv("ONECARD_THREADS", raising=False)
    monkeypatch.setenv("ONECARD_ACCESS_LOG", "0")
    seen = []
    monkeypatch.setattr(serve.os, "execv", lambda path, argv: seen.append(argv))
    command = serve.Command()
    command.handle(**vars(command.create_parser("onecard", "x").parse_args([])))
    argv = seen[0]
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert argv[argv.index("--threads") + 1] == "4"
    assert argv[argv.index("--keep-alive") + 1] == "30"
    assert "--access-logfile" not in argv
    assert argv[argv.index("--workers") + 1] == "3"
