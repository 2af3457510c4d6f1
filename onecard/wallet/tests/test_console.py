"""Wallet console pages through the test client: who may see what, forms that move money (and
refusals that move nothing), and the .xlsx downloads."""

import io

import openpyxl
import pytest
from django.urls import reverse

from onecard.accounts.actions import set_language
from onecard.audit.models import AuditRecord
from onecard.wallet import actions
from onecard.wallet.models import Account, Transfer

from .test_reports import build_day, clock_fixture  # noqa: F401  (the clock fixture)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def as_user(client):
    """Log ``user`` in, with the console in English so messages can be matched."""

    def login(user, language="en"):
        set_language(actor=user, language=language)
        client.force_login(user)
        return client

    return login


def state():
    return (list(Account.objects.order_by("pk").values_list("pk", "debits_posted",
                                                            "credits_posted", "status")),
            Transfer.objects.count(), AuditRecord.objects.count())


def page_urls(books):
    return {
        "purses": reverse("console:wallet-purse-list"),
        "purse": reverse("console:wallet-member-purse", args=[books.alice.pk]),
        "statement": reverse("console:wallet-member-statement-export", args=[books.alice.pk]),
        "merchants": reverse("console:wallet-merchant-list"),
        "daily": reverse("console:wallet-merchant-daily", args=[books.canteen.pk]),
        "daily-xlsx": reverse("console:wallet-merchant-daily-export", args=[books.canteen.pk]),
        "reconciliation": reverse("console:wallet-reconciliation"),
        "top-up": reverse("console:wallet-top-up", args=[books.alice.pk]),
        "refund": reverse("console:wallet-refund"),
    }


# --- Who sees what ------------------------------------------------------------------------------


def test_pages_render_for_the_enterprise_admin(books, as_user):
    client = as_user(books.admin)
    for name, url in page_urls(books).items():
        response = client.get(url)
        assert response.status_code == 200, name
    menu = [item["name"] for item in client.get(page_urls(books)["purses"]).context["navigation"]]
    assert {"console:wallet-purse-list", "console:wallet-merchant-list",
            "console:wallet-reconciliation"} <= set(menu)
    assert "console:wallet-my-purse" not in menu


def test_enterprise_admin_of_b_gets_404_for_a(books, as_user):
    client = as_user(books.world.ent_admin_b)
    urls = page_urls(books)
    for name in ("purse", "statement", "daily", "daily-xlsx", "top-up"):
        assert client.get(urls[name]).status_code == 404, name
    # The lists show only B's own.
    page = client.get(urls["purses"])
    assert [row["member"].name for row in page.context["rows"]] == [
        "Member b0", "Member b1", "Member b2"]
    assert list(client.get(urls["merchants"]).context["rows"]) == []
    assert client.get(urls["reconciliation"]).context["customer"] == books.world.customer_b
    before = state()
    response = client.post(urls["top-up"], {"amount": "100", "source": books.drawer.pk,
                                            "client_id": "x"})
    assert response.status_code == 404
    assert state() == before


def test_operator_staff_choose_the_customer(books, as_user):
    urls = page_urls(books)
    client = as_user(books.world.manager)
    page = client.get(urls["reconciliation"])
    assert page.context["report"] is None
    assert page.context["customers"] == [books.customer]
    page = client.get(urls["reconciliation"], {"group_customer": books.customer.pk})
    assert page.context["report"].balanced
    # The other county's customer is out of reach; garbage is 404 too.
    for value in (books.world.customer_b.pk, "x", "9" * 30):
        assert client.get(urls["reconciliation"],
                          {"group_customer": value}).status_code == 404
    # A service agent reads the books but has no money forms.
    agent = as_user(books.world.agent1)
    assert agent.get(urls["purse"]).status_code == 200
    assert agent.get(urls["purse"]).context["may_change"] is False
    assert agent.get(urls["top-up"]).status_code == 404
    assert agent.get(urls["refund"]).status_code == 404


def test_a_member_sees_only_their_own_purse(books, as_user):
    actions.top_up(actor=books.admin, member=books.alice, amount=1234, client_id="t",
                   source=books.drawer)
    client = as_user(books.world.member_user_a)
    response = client.get(reverse("console:wallet-my-purse"))
    assert response.status_code == 302
    assert response["Location"] == reverse("console:wallet-member-purse", args=[books.alice.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["may_change"] is False
    assert "12.34" in page.content.decode()
    assert [item["line"].client_id for item in page.context["lines"]] == ["t"]
    menu = [item["name"] for item in page.context["navigation"]]
    assert "console:wallet-my-purse" in menu and "console:wallet-purse-list" not in menu
    urls = page_urls(books)
    assert client.get(urls["statement"]).status_code == 200
    assert client.get(reverse("console:wallet-member-purse",
                              args=[books.bob.pk])).status_code == 404
    for name in ("purses", "merchants", "daily", "daily-xlsx", "reconciliation", "top-up",
                 "refund"):
        assert client.get(urls[name]).status_code == 404, name


@pytest.mark.parametrize("role", ["integrator_engineer", "vendor_engineer"])
def test_engineers_get_404_everywhere(books, as_user, role):
    client = as_user(getattr(books.world, role))
    for name, url in page_urls(books).items():
        assert client.get(url).status_code == 404, name
    assert client.get(reverse("console:wallet-my-purse")).status_code == 404


# --- Forms move money ---------------------------------------------------------------------------


def test_counter_top_up_form(books, as_user):
    client = as_user(books.admin)
    url = reverse("console:wallet-top-up", args=[books.alice.pk])
    form = client.get(url).context["form"]
    client_id = form.initial["client_id"]
    assert list(form.fields["source"].queryset) == [books.drawer, books.bank,
                                                    Account.objects.get(code="online",
                                                                        group_customer=books.customer)]
    data = {"amount": "12.50", "source": books.drawer.pk, "client_id": client_id}
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:wallet-member-purse", args=[books.alice.pk])
    assert (books.balance(books.purse), books.balance(books.drawer)) == (1250, -1250)
    # The browser resubmits: the hidden client id makes it a retry, not a second top-up.
    before = state()
    again = client.post(url, data, follow=True)
    assert "already recorded" in again.content.decode()
    assert state() == before


@pytest.mark.parametrize("amount", ["0", "-1", "12.345", "abc", "", "1e3", "NaN",
                                    "10000001"])
def test_top_up_form_refuses_bad_amounts(books, as_user, amount):
    client = as_user(books.admin)
    before = state()
    response = client.post(reverse("console:wallet-top-up", args=[books.alice.pk]),
                           {"amount": amount, "source": books.drawer.pk, "client_id": "c"})
    assert response.status_code == 400
    assert "amount" in response.context["form"].errors
    assert state() == before


def test_top_up_refusal_by_the_ledger_is_shown(books, as_user):
    actions.deregister_purses(actor=books.admin, member=books.carol, client_id="d")
    client = as_user(books.admin)
    before = state()
    response = client.post(reverse("console:wallet-top-up", args=[books.carol.pk]),
                           {"amount": "1", "source": books.drawer.pk, "client_id": "c"})
    assert response.status_code == 409
    assert "closed" in str(response.context["form"].non_field_errors())
    assert state() == before


def test_refund_and_reversal_forms(books, as_user):
    actions.top_up(actor=books.admin, member=books.alice, amount=5000, client_id="t",
                   source=books.drawer)
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1500,
                     client_id="p-1")
    client = as_user(books.admin)
    url = reverse("console:wallet-refund")
    before = state()
    too_much = client.post(url, {"purchase_client_id": "p-1", "amount": "15.01",
                                 "client_id": "r1"})
    assert too_much.status_code == 409
    assert too_much.context["form"].errors["amount"]
    unknown = client.post(url, {"purchase_client_id": "nope", "amount": "1", "client_id": "r1"})
    assert unknown.status_code == 400
    assert unknown.context["form"].errors["purchase_client_id"]
    assert state() == before
    response = client.post(url, {"purchase_client_id": "p-1", "amount": "5.00",
                                 "client_id": "r1", "reason": "cold"})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:wallet-member-purse", args=[books.alice.pk])
    assert books.balance(books.purse) == 4000

    top = Transfer.objects.get(client_id="t")
    reverse_url = reverse("console:wallet-reverse-transfer", args=[top.pk])
    assert client.get(reverse_url).status_code == 200
    before = state()
    refused = client.post(reverse_url, {"client_id": "rv"})  # all 50.00, but 40.00 is left
    assert refused.status_code == 409
    assert "Insufficient funds" in str(refused.context["form"].non_field_errors()) + str(
        refused.context["form"].errors)
    assert state() == before
    response = client.post(reverse_url, {"client_id": "rv", "amount": "10", "reason": "typo"})
    assert response.status_code == 302
    assert books.balance(books.purse) == 3000
    # B's admin cannot open A's reversal form.
    other = as_user(books.world.ent_admin_b)
    before = state()
    assert other.get(reverse_url).status_code == 404
    assert other.post(reverse_url, {"client_id": "rv2", "amount": "1"}).status_code == 404
    assert state() == before


# --- Reports and downloads ----------------------------------------------------------------------


def test_statement_page_with_a_date_range(books, as_user, clock):
    build_day(books, clock)
    client = as_user(books.admin)
    url = reverse("console:wallet-member-purse", args=[books.alice.pk])
    page = client.get(url, {"start": "2026-03-10", "end": "2026-03-10"})
    assert [item["line"].client_id for item in page.context["lines"]] == [
        "p-1", "s-1", "p-2", "p-2", "rf-1", "p-4"]
    assert (page.context["opening"], page.context["closing"]) == ("100.00", "77.00")
    bad = client.get(url, {"start": "2026-03-10", "end": "2026-03-01"})
    assert bad.status_code == 400
    assert bad.context["form"].errors["end"]
    response = client.get(reverse("console:wallet-member-statement-export",
                                  args=[books.alice.pk]),
                          {"start": "2026-03-10", "end": "2026-03-10"})
    assert response["Content-Type"] == XLSX
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(
        values_only=True))
    assert rows[0][:2] == ("Member statement", "Member a0")
    assert rows[-1][3] == "p-4"


def test_merchant_daily_page_and_download(books, as_user, clock):
    build_day(books, clock)
    client = as_user(books.admin)
    page = client.get(reverse("console:wallet-merchant-daily", args=[books.canteen.pk]),
                      {"day": "2026-03-10"})
    assert page.context["total"]["purchases"] == "60.50"
    assert "60.50" in page.content.decode()
    assert client.get(reverse("console:wallet-merchant-daily", args=[books.canteen.pk]),
                      {"day": "bad"}).status_code == 400
    response = client.get(reverse("console:wallet-merchant-daily-export",
                                  args=[books.canteen.pk]), {"day": "2026-03-10"})
    assert response["Content-Type"] == XLSX
    assert 'filename="merchant-canteen-20260310.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A7"].value == "Total" and sheet["D7"].value == 60.5
    merchants = client.get(reverse("console:wallet-merchant-list"))
    assert [row["merchant"] for row in merchants.context["rows"]] == [books.canteen]


def test_reconciliation_page_and_download(books, as_user, clock):
    build_day(books, clock)
    client = as_user(books.admin)
    page = client.get(reverse("console:wallet-reconciliation"), {"day": "2026-03-10"})
    assert page.status_code == 200
    assert page.context["report"].balanced
    assert page.context["total"]["debits"] == "114.00"
    assert "The books balance" in page.content.decode()
    response = client.get(page.context["export_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(
        values_only=True))
    assert rows[0] == ("Day-end reconciliation", "Customer A", "2026-03-10", None, None, None,
                       None, None)
    assert rows[-1][:6] == ("Total", 16, 0, 114, 114, 0)


def test_pages_in_chinese(books, as_user, clock):
    build_day(books, clock)
    client = as_user(books.admin, language="zh-hans")
    html = client.get(reverse("console:wallet-reconciliation"), {"day": "2026-03-10"}).content
    text = html.decode()
    assert "日终对账" in text and "个人钱包" in text
    response = client.get(reverse("console:wallet-reconciliation-export"), {"day": "2026-03-10"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "日终对账"
