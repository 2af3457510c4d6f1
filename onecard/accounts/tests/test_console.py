"""Console shell through the test client: log-in and lockout, language, navigation per role,
the dashboard, the profile, and the page furniture (static assets served locally, CSRF on)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from onecard.accounts.models import User
from onecard.audit.models import AuditRecord

LOCKED_EN = "Too many failed log-ins; try again later."
WRONG_EN = "The user name or password is wrong."


def nav(response):
    """The navigation bar of a rendered page."""
    html = response.content.decode()
    return html[html.index('<nav class="navbar'):html.index("</nav>")]


def login(client, username, password):
    return client.post(reverse("console:login"), {"username": username, "password": password},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_log_in_with_the_right_password_opens_the_dashboard(world, client):
    response = login(client, "ent_a", world.password)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:dashboard")
    assert client.get(reverse("console:dashboard")).context["user"] == world.ent_admin_a


def test_wrong_password_shows_the_generic_error(world, client):
    response = login(client, "ent_a", "Wrong-password-1")
    assert response.status_code == 400
    assert WRONG_EN in response.content.decode()
    assert LOCKED_EN not in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures_refuses_even_the_right_password(world, client, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 5
    for attempt in range(1, 5):
        response = login(client, "ent_a", f"Wrong-password-{attempt}")
        assert WRONG_EN in response.content.decode()
    response = login(client, "ent_a", "Wrong-password-5")
    assert LOCKED_EN in response.content.decode()

    response = login(client, "ent_a", world.password)
    assert response.status_code == 400
    assert LOCKED_EN in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account is not affected.
    assert login(Client(), "ent_b", world.password).status_code == 302


def test_lock_message_is_translated(world, client, settings):
    settings.ONECARD_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        client.post(reverse("console:login"), {"username": "ent_a", "password": "Nope-nope-1"})
    response = client.post(reverse("console:login"),
                           {"username": "ent_a", "password": world.password})
    assert "登录失败次数过多，请稍后再试。" in response.content.decode()


def test_log_out_is_post_only(world, client):
    client.force_login(world.ent_admin_a)
    assert client.get(reverse("console:logout")).status_code == 405
    response = client.post(reverse("console:logout"))
    assert response.status_code == 302
    assert client.get(reverse("console:dashboard")).status_code == 302  # back to log-in


def test_pages_need_a_log_in(world, client):
    response = client.get(reverse("console:member-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_language_switch_changes_the_console_language(world, client):
    client.force_login(world.ent_admin_a)
    page = client.get(reverse("console:dashboard"))
    assert "成员" in nav(page)
    assert "Members" not in nav(page)

    response = client.post(reverse("console:language"),
                           {"language": "en", "next": reverse("console:member-list")})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:member-list")
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.language == "en"
    page = client.get(reverse("console:dashboard"))
    assert "Members" in nav(page)
    assert "成员" not in nav(page)

    client.post(reverse("console:language"), {"language": "zh-hans"})
    assert "成员" in nav(client.get(reverse("console:dashboard")))


def test_language_switch_works_for_a_member_too(world, client):
    client.force_login(world.member_user_a)
    client.post(reverse("console:language"), {"language": "en"})
    world.member_user_a.refresh_from_db()
    assert world.member_user_a.language == "en"
    assert "My account" in nav(client.get(reverse("console:dashboard")))


def test_language_switch_before_log_in_uses_a_cookie(world, client):
    response = client.post(reverse("console:language"),
                           {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:login")  # no open redirect
    assert "Log in to OneCard" in client.get(reverse("console:login")).content.decode()


def test_unknown_language_is_refused_and_changes_nothing(world, client):
    client.force_login(world.ent_admin_a)
    response = client.post(reverse("console:language"), {"language": "xx"})
    assert response.status_code == 302
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.language == "zh-hans"


def _menu(client, user):
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(language="en")
    return nav(client.get(reverse("console:dashboard")))


def test_navigation_for_an_enterprise_admin(world, client):
    menu = _menu(client, world.ent_admin_a)
    assert reverse("console:group-customer-list") not in menu
    assert "Group customers" not in menu
    for name in ("member-list", "department-list", "roster-import", "audit-list", "profile"):
        assert reverse(f"console:{name}") in menu


def test_navigation_for_a_member(world, client):
    menu = _menu(client, world.member_user_a)
    assert "Members" not in menu
    for name in ("member-list", "group-customer-list", "department-list", "audit-list"):
        assert reverse(f"console:{name}") not in menu
    assert reverse("console:profile") in menu


def test_navigation_for_operator_staff(world, client):
    menu = _menu(client, world.admin)
    for name in ("group-customer-list", "member-list", "roster-import", "audit-list"):
        assert reverse(f"console:{name}") in menu
    menu = _menu(Client(), world.agent1)
    assert reverse("console:group-customer-list") in menu
    assert reverse("console:roster-import") not in menu
    assert reverse("console:audit-list") not in menu


@pytest.mark.parametrize("username,url_name", [
    ("ent_a", "group-customer-list"),
    ("member_a", "member-list"),
    ("member_a", "department-list"),
    ("member_a", "roster-import"),
    ("member_a", "audit-list"),
    ("agent1", "audit-list"),
    ("agent1", "roster-import"),
    ("vendoreng", "group-customer-list"),
    ("engineer", "member-list"),
])
def test_pages_outside_a_role_answer_404(world, client, username, url_name):
    client.force_login(User.objects.get(username=username))
    assert client.get(reverse(f"console:{url_name}")).status_code == 404


def test_dashboard_shows_real_counts_per_role(world, client):
    client.force_login(world.ent_admin_a)
    page = client.get(reverse("console:dashboard"))
    assert page.status_code == 200
    members_card = next(c for c in page.context["cards"] if c["url"].endswith("/members/"))
    assert members_card["total"] == 3
    assert page.context["department_count"] == 2
    assert page.context["own_customer"] == world.customer_a

    client.force_login(world.manager)
    page = client.get(reverse("console:dashboard"))
    customers_card = page.context["cards"][0]
    assert customers_card["total"] == 1  # the manager's county only
    assert {row["url"].rsplit("=", 1)[1]: row["count"] for row in customers_card["rows"]} == {
        "pending": 0, "verified": 1, "suspended": 0, "closed": 0}

    client.force_login(world.member_user_a)
    page = client.get(reverse("console:dashboard"))
    assert page.context["own_member"] == world.members_a[0]
    assert page.context["cards"] == []
    assert world.members_a[0].phone in page.content.decode()


def test_dashboard_for_a_vendor_engineer_has_no_placeholder_cards(world, client):
    client.force_login(world.vendor_engineer)
    page = client.get(reverse("console:dashboard"))
    assert page.status_code == 200
    assert page.context["cards"] == []


def test_profile_changes_the_display_name(world, client):
    client.force_login(world.member_user_a)
    response = client.post(reverse("console:profile"), {"display_name": "  Ann  "})
    assert response.status_code == 302
    world.member_user_a.refresh_from_db()
    assert world.member_user_a.display_name == "Ann"
    assert AuditRecord.objects.filter(action="account.updated",
                                      object_id=str(world.member_user_a.pk)).exists()


def test_password_change(world, client):
    client.force_login(world.ent_admin_a)
    url = reverse("console:password-change")
    response = client.post(url, {"old_password": "wrong", "new_password1": "New-Password-77",
                                 "new_password2": "New-Password-77"})
    assert response.status_code == 400
    assert response.context["password_form"].errors["old_password"]

    response = client.post(url, {"old_password": world.password, "new_password1": "short",
                                 "new_password2": "short"})
    assert response.status_code == 400
    assert response.context["password_form"].errors["new_password1"]
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.check_password(world.password)

    response = client.post(url, {"old_password": world.password,
                                 "new_password1": "New-Password-77",
                                 "new_password2": "New-Password-77"})
    assert response.status_code == 302
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.check_password("New-Password-77")
    # Still logged in after the change.
    assert client.get(reverse("console:profile")).status_code == 200


def test_csrf_is_enforced(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.ent_admin_a)
    response = client.post(reverse("console:profile"), {"display_name": "x"})
    assert response.status_code == 403
    world.ent_admin_a.refresh_from_db()
    assert world.ent_admin_a.display_name == ""


ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("url_name", ["dashboard", "member-list", "department-list",
                                      "roster-import", "audit-list", "profile"])
def test_static_assets_are_local_and_resolve(world, client, url_name):
    client.force_login(world.ent_admin_a)
    html = client.get(reverse(f"console:{url_name}")).content.decode()
    assets = [url for url in ASSET.findall(html) if url.startswith("/static/")]
    assert {"/static/bootstrap/css/bootstrap.min.css", "/static/htmx/htmx.min.js",
            "/static/bootstrap/js/bootstrap.bundle.min.js"} <= set(assets)
    for url in assets:
        assert finders.find(url.removeprefix("/static/")), url
    assert "http://" not in html and "https://" not in html
    assert "//cdn" not in html


def test_log_in_page_has_no_cdn_links(db, client):
    html = client.get(reverse("console:login")).content.decode()
    assert "http://" not in html and "https://" not in html
    for url in ASSET.findall(html):
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url


def test_not_found_page_is_the_console_page(world, client):
    client.force_login(world.ent_admin_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "未找到" in response.content.decode()
