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
