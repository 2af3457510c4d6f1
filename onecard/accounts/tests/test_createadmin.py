"""``onecard createadmin``: an operator admin from the command line, never a half-made one."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import translation

from onecard.accounts.models import User
from onecard.audit.models import AuditRecord
from onecard.organizations.models import Operator

GOOD = "Str0ng-enough-pass"


class Terminal(StringIO):
    """Standard input that claims to be a terminal, so the command prompts."""

    def isatty(self):
        return True


def createadmin(*args, **options):
    out = StringIO()
    with translation.override("en"):  # messages follow the active language; assert on English
        call_command("createadmin", *args, stdout=out, **options)
    return out.getvalue()


def state():
    return User.objects.count(), Operator.objects.count(), AuditRecord.objects.count()


@pytest.fixture
def no_env_password(monkeypatch):
    monkeypatch.delenv("ONECARD_ADMIN_PASSWORD", raising=False)


def test_password_from_the_environment_and_operator_created(db, monkeypatch):
    monkeypatch.setenv("ONECARD_ADMIN_PASSWORD", GOOD)
    output = createadmin("--username", "root", "--email", "root@example.com",
                         "--operator-name", "重庆移动 OneCard")
    user = User.objects.get(username="root")
    assert (user.role, user.email, user.group_customer, user.branch) == (
        "operator_admin", "root@example.com", None, None)
    assert authenticate(username="root", password=GOOD) == user
    operator = Operator.objects.get()
    assert operator.name == "重庆移动 OneCard"
    assert operator.code == "onecard"
    assert "Created operator admin" in output
    assert set(AuditRecord.objects.values_list("action", flat=True)) == {
        "operator.created", "account.created"}


def test_password_from_stdin_and_existing_operator_kept(world, no_env_password):
    createadmin("--username", "second", "--password-stdin", stdin=StringIO(GOOD + "\n"))
    assert Operator.objects.get() == world.operator
    assert authenticate(username="second", password=GOOD).role == "operator_admin"


def test_password_asked_twice_in_a_terminal(db, no_env_password, monkeypatch):
    answers = iter([GOOD, GOOD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    createadmin("--username", "typed", stdin=Terminal())
    assert authenticate(username="typed", password=GOOD) is not None
    assert Operator.objects.get().name == "OneCard Operator"


def test_stdin_wins_over_the_environment(db, monkeypatch):
    monkeypatch.setenv("ONECARD_ADMIN_PASSWORD", "Env-password-123")
    createadmin("--username", "both", "--password-stdin", stdin=StringIO(GOOD + "\r\n"))
    assert authenticate(username="both", password=GOOD) is not None


@pytest.mark.parametrize(("password", "message"), [
    ("short1A!", "too short"),
    ("password1234", "too common"),
    ("12345678901234", "entirely numeric"),
    ("alllowercaseletters", "three of"),
    ("Rootadmin-1", "too similar"),
])
def test_a_weak_password_is_refused_and_nothing_is_created(db, monkeypatch, password, message):
    monkeypatch.setenv("ONECARD_ADMIN_PASSWORD", password)
    before = state()
    with pytest.raises(CommandError, match=message):
        createadmin("--username", "rootadmin", "--email", "rootadmin@example.com")
    assert state() == before  # not even the operator


def test_a_taken_username_is_refused(world, monkeypatch):
    monkeypatch.setenv("ONECARD_ADMIN_PASSWORD", GOOD)
    before = state()
    with pytest.raises(CommandError, match="username: .*already exists"):
        createadmin("--username", "admin")
    assert state() == before
    assert authenticate(username="admin", password=world.password) == world.admin


def test_different_passwords_in_the_terminal_are_refused(db, no_env_password, monkeypatch):
    answers = iter([GOOD, GOOD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        createadmin("--username", "typo", stdin=Terminal())
    assert state() == (0, 0, 0)


def test_no_password_source_is_a_clear_error(db, no_env_password):
    with pytest.raises(CommandError, match="ONECARD_ADMIN_PASSWORD"):
        createadmin("--username", "nobody", stdin=StringIO(""))
    with pytest.raises(CommandError, match="No password on standard input"):
        createadmin("--username", "nobody", "--password-stdin", stdin=StringIO(""))
    assert state() == (0, 0, 0)


def test_a_blank_username_is_refused(db, monkeypatch):
    monkeypatch.setenv("ONECARD_ADMIN_PASSWORD", GOOD)
    with pytest.raises(CommandError, match="username"):
        createadmin("--username", "   ")
    assert state() == (0, 0, 0)
