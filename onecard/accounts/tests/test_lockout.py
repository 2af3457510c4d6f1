"""Log-in lockout and password rules."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from onecard.accounts.actions import change_password, create_account, unlock_account
from onecard.accounts.choices import Role
from onecard.accounts.models import LoginFailure
from onecard.audit.models import AuditRecord
from onecard.core.errors import InvalidInput


def _login(username, password):
    return authenticate(RequestFactory().post("/"), username=username, password=password)


def test_right_password_logs_in(world):
    assert _login("ent_a", world.password) == world.ent_admin_a


def test_lockout_after_repeated_failures_refuses_even_the_right_password(world, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 5
    for _ in range(4):
        assert _login("ent_a", "wrong-password-1") is None
    assert _login("ent_a", world.password) == world.ent_admin_a  # success resets the count
    for _ in range(5):
        assert _login("ent_a", "wrong-password-1") is None
    assert _login("ent_a", world.password) is None
    assert AuditRecord.objects.filter(action="account.locked",
                                      object_id=str(world.ent_admin_a.pk)).count() == 1
    # Another account is unaffected.
    assert _login("ent_b", world.password) == world.ent_admin_b


def test_lock_expires_after_the_window(world, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _login("ent_a", "nope-nope-1")
    assert _login("ent_a", world.password) is None
    LoginFailure.objects.filter(username="ent_a").update(
        locked_until="2000-01-01T00:00:00Z", first_failure_at="2000-01-01T00:00:00Z")
    assert _login("ent_a", world.password) == world.ent_admin_a


def test_unknown_names_are_locked_too_without_revealing_anything(world, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert _login("nobody", "whatever-1A") is None
    assert LoginFailure.objects.get(username="nobody").locked_until is not None


def test_admin_unlocks(world, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _login("ent_a", "nope-nope-1")
    unlock_account(actor=world.admin, user=world.ent_admin_a)
    assert _login("ent_a", world.password) == world.ent_admin_a


@pytest.mark.parametrize("password", ["short1A", "alllowercaseletters", "1234567890123",
                                      "password123", "qwertyuiop"])
def test_weak_passwords_are_refused(world, password):
    before = world.ent_admin_a.password
    with pytest.raises(InvalidInput) as refused:
        change_password(actor=world.ent_admin_a, user=world.ent_admin_a, new_password=password)
    assert "password" in refused.value.errors
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.password == before


def test_enterprise_admin_cannot_create_staff_or_foreign_accounts(world):
    from onecard.accounts.models import User
    from onecard.core.errors import NotAllowed

    count = User.objects.count()
    with pytest.raises(NotAllowed):
        create_account(actor=world.ent_admin_a, username="sneaky", password=world.password,
                       role=Role.OPERATOR_ADMIN)
    with pytest.raises(InvalidInput):
        create_account(actor=world.ent_admin_a, username="sneaky", password=world.password,
                       role=Role.ENTERPRISE_ADMIN, group_customer=world.customer_b)
    assert User.objects.count() == count
