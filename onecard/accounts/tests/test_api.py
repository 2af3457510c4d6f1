"""Accounts, self-service and token log-in through the public API."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from onecard.accounts.models import LoginFailure, User
from onecard.audit.models import AuditRecord


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The log-in throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def state():
    return (list(User.objects.order_by("pk").values()), AuditRecord.objects.count(),
            Token.objects.count())


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def login(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})


GENERIC_REFUSAL_KEYS = ["non_field_errors"]


# --- Token log-in -------------------------------------------------------------------------------


def test_token_login_and_use(world):
    response = login("ent_a", world.password)
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=world.ent_admin_a).key == token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/accounts/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "ent_a"
    # Logging in again gives the same token.
    assert login("ent_a", world.password).json()["token"] == token


@pytest.mark.parametrize("username,password", [("ent_a", "Wrong-password-1"),
                                               ("nobody", "Wrong-password-1")])
def test_wrong_log_ins_get_one_generic_answer(world, username, password):
    before = Token.objects.count()
    response = login(username, password)
    assert response.status_code == 400
    assert list(response.json()) == GENERIC_REFUSAL_KEYS
    assert Token.objects.count() == before
    assert LoginFailure.objects.get(username=username).failures == 1


def test_lockout_counts_api_failures_and_refuses_even_the_right_password(world, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 3
    wrong = [login("ent_a", "Wrong-password-1") for _ in range(3)]
    assert [r.status_code for r in wrong] == [400, 400, 400]
    locked = login("ent_a", world.password)
    assert locked.status_code == 400
    assert locked.json() == wrong[0].json()
    assert not Token.objects.filter(user=world.ent_admin_a).exists()
    assert AuditRecord.objects.filter(action="account.locked",
                                      object_id=str(world.ent_admin_a.pk)).count() == 1


def test_inactive_account_cannot_log_in(world, api_as):
    api_as(world.admin).patch(f"/api/v1/accounts/{world.manager.pk}/", {"is_active": False})
    response = login("manager", world.password)
    assert response.status_code == 400
    assert list(response.json()) == GENERIC_REFUSAL_KEYS


def test_login_is_throttled(world):
    answers = [login("nobody", "Wrong-password-1").status_code for _ in range(31)]
    assert answers == [400] * 30 + [429]


@pytest.mark.parametrize("body", [{}, {"username": "ent_a"}, {"username": "ent_a",
                                                               "password": "x", "otp": "1"}])
def test_malformed_login_requests(world, body):
    response = APIClient().post("/api/v1/auth/token/", body)
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_logout_deletes_the_token(world):
    token = login("ent_a", world.password).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert not Token.objects.filter(key=token).exists()
    assert client.get("/api/v1/accounts/me/").status_code == 401


def test_anonymous_requests_are_refused(world):
    assert APIClient().get("/api/v1/accounts/").status_code == 401
    assert APIClient().get("/api/v1/members/").status_code == 401


# --- Listing and reading ------------------------------------------------------------------------


def test_operator_admin_sees_every_account(world, api_as):
    response = api_as(world.admin).get("/api/v1/accounts/", {"page_size": 100})
    assert response.json()["count"] == User.objects.count()
    assert "password" not in response.json()["results"][0]


def test_enterprise_admin_sees_their_customers_accounts(world, api_as):
    client = api_as(world.ent_admin_a)
    assert ids(client.get("/api/v1/accounts/")) == [world.ent_admin_a.pk,
                                                    world.member_user_a.pk]
    assert ids(client.get("/api/v1/accounts/", {"role": "member"})) == [world.member_user_a.pk]


@pytest.mark.parametrize("who", ["manager", "agent1", "member_user_a", "vendor_engineer"])
def test_others_see_only_themselves(world, api_as, who):
    user = getattr(world, who)
    assert ids(api_as(user).get("/api/v1/accounts/")) == [user.pk]


# --- Creating and changing ----------------------------------------------------------------------


def test_enterprise_admin_creates_a_member_account(world, api_as):
    member = world.members_a[1]
    response = api_as(world.ent_admin_a).post("/api/v1/accounts/", {
        "username": "a1", "password": "Another-horse-7", "role": "member",
        "member": member.pk, "display_name": "A One"})
    assert response.status_code == 201
    body = response.json()
    account = User.objects.get(username="a1")
    assert body["id"] == account.pk
    assert (body["group_customer"], body["member"], body["role"]) == (
        world.customer_a.pk, member.pk, "member")
    assert "password" not in body
    assert login("a1", "Another-horse-7").status_code == 200
    record = AuditRecord.objects.filter(action="account.created").latest("id")
    assert "password" not in record.after


@pytest.mark.parametrize("body,status,field", [
    ({"role": "operator_admin"}, 403, "detail"),
    ({"role": "member", "member": "{members_b[0]}"}, 400, "member"),
    ({"role": "enterprise_admin", "group_customer": "{customer_b}"}, 400, "group_customer"),
    ({"role": "member", "member": "{members_a[1]}", "password": "short"}, 400, "password"),
    ({"role": "member", "member": "{members_a[1]}", "username": "ent_b"}, 400, "username"),
    ({"role": "member", "member": "{members_a[1]}", "is_superuser": True}, 400, "is_superuser"),
    ({"role": "wizard"}, 400, "role"),
])
def test_enterprise_admin_account_refusals(world, api_as, body, status, field):
    def resolve(value):
        if isinstance(value, str) and value.startswith("{"):
            name, _, index = value[1:-1].partition("[")
            obj = getattr(world, name)
            return (obj[int(index[:-1])] if index else obj).pk
        return value

    body = {"username": "newbie", "password": "Another-horse-7",
            **{k: resolve(v) for k, v in body.items()}}
    before = state()
    response = api_as(world.ent_admin_a).post("/api/v1/accounts/", body)
    assert response.status_code == status
    assert field in response.json()
    assert state() == before


def test_operator_admin_creates_staff_accounts(world, api_as):
    response = api_as(world.admin).post("/api/v1/accounts/", {
        "username": "manager3", "password": "Another-horse-7", "role": "customer_manager",
        "branch": world.county_b.pk})
    assert response.status_code == 201
    assert User.objects.get(username="manager3").branch == world.county_b


def test_customer_manager_may_not_create_accounts(world, api_as):
    before = state()
    response = api_as(world.manager).post("/api/v1/accounts/", {
        "username": "x1", "password": "Another-horse-7", "role": "service_agent_t1"})
    assert response.status_code == 403
    assert state() == before


def test_enterprise_admin_deactivates_a_member_account(world, api_as):
    client = api_as(world.ent_admin_a)
    url = f"/api/v1/accounts/{world.member_user_a.pk}/"
    response = client.patch(url, {"is_active": False, "display_name": "Gone"})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert login("member_a", world.password).status_code == 400
    before = state()
    refused = client.patch(url, {"role": "enterprise_admin"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["role"]
    self_off = client.patch(f"/api/v1/accounts/{world.ent_admin_a.pk}/", {"is_active": False})
    assert self_off.status_code == 400
    assert list(self_off.json()) == ["is_active", "code"]
    assert state() == before


# --- Self-service -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member_user_a", "manager", "vendor_engineer", "ent_admin_a"])
def test_everyone_sets_their_own_language_and_name(world, api_as, who):
    user = getattr(world, who)
    response = api_as(user).patch("/api/v1/accounts/me/", {"language": "en",
                                                           "display_name": "Me"})
    assert response.status_code == 200
    assert (response.json()["language"], response.json()["display_name"]) == ("en", "Me")
    user.refresh_from_db()
    assert (user.language, user.display_name) == ("en", "Me")


@pytest.mark.parametrize("body,field", [({"language": "fr"}, "language"),
                                        ({"role": "operator_admin"}, "role"),
                                        ({"is_active": False}, "is_active"),
                                        ({"group_customer": 2}, "group_customer")])
def test_self_service_cannot_change_anything_else(world, api_as, body, field):
    before = state()
    response = api_as(world.member_user_a).patch("/api/v1/accounts/me/", body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert state() == before


def test_change_own_password(world, api_as):
    client = api_as(world.member_user_a)
    before = state()
    wrong = client.post("/api/v1/accounts/me/password/", {
        "current_password": "Not-it-at-all-1", "new_password": "Another-horse-7"})
    assert wrong.status_code == 400
    assert list(wrong.json()) == ["current_password"]
    weak = client.post("/api/v1/accounts/me/password/", {
        "current_password": world.password, "new_password": "password"})
    assert weak.status_code == 400
    assert list(weak.json()) == ["new_password", "code"]
    assert state() == before
    done = client.post("/api/v1/accounts/me/password/", {
        "current_password": world.password, "new_password": "Another-horse-7"})
    assert done.status_code == 204
    assert login("member_a", "Another-horse-7").status_code == 200
    assert login("member_a", world.password).status_code == 400
    assert AuditRecord.objects.latest("id").action == "account.password_changed"


# --- Unlock -------------------------------------------------------------------------------------


def test_operator_admin_unlocks_a_locked_account(world, api_as, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        login("manager", "Wrong-password-1")
    assert login("manager", world.password).status_code == 400
    response = api_as(world.admin).post(f"/api/v1/accounts/{world.manager.pk}/unlock/")
    assert response.status_code == 200
    assert response.json() == {"unlocked": True}
    assert login("manager", world.password).status_code == 200
    assert AuditRecord.objects.filter(action="account.unlocked").count() == 1


def test_enterprise_admin_unlocks_their_members_only(world, api_as, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        login("member_a", "Wrong-password-1")
    client = api_as(world.ent_admin_a)
    assert client.post(f"/api/v1/accounts/{world.member_user_a.pk}/unlock/").json() == {
        "unlocked": True}
    before = (LoginFailure.objects.count(), AuditRecord.objects.count())
    assert client.post(f"/api/v1/accounts/{world.manager.pk}/unlock/").status_code == 404
    assert api_as(world.manager).post(
        f"/api/v1/accounts/{world.member_user_a.pk}/unlock/").status_code == 404
    assert (LoginFailure.objects.count(), AuditRecord.objects.count()) == before
