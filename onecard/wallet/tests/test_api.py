"""The wallet API: every endpoint, idempotent retries, each refusal with its rule code (and
nothing changed), tenant isolation and what a member may read."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from onecard.audit.models import AuditRecord
from onecard.core.money import MAX_TRANSFER_FEN
from onecard.people.actions import create_member
from onecard.wallet import actions
from onecard.wallet.models import Account, Merchant, SpendingPolicy, Transfer

from .test_reports import build_day, clock_fixture  # noqa: F401  (the clock fixture)

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def state():
    """Everything a refused request must leave alone."""
    accounts = list(Account.objects.order_by("pk").values_list(
        "pk", "debits_posted", "credits_posted", "debits_pending", "credits_pending", "status",
        "overdraft_limit", "subsidy_expires_at"))
    return (accounts, Transfer.objects.count(), AuditRecord.objects.count(),
            Merchant.objects.count(), list(SpendingPolicy.objects.values()))


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def top_up_body(books, **changes):
    return {"member": books.alice.pk, "amount": 10000, "client_id": "t-1",
            "source": books.drawer.pk, **changes}


@pytest.fixture
def admin_a(books, api_as):
    return api_as(books.admin)


# --- Counter top-up -----------------------------------------------------------------------------


def test_top_up_posts_once_and_a_retry_answers_the_same(books, admin_a):
    audit_before = AuditRecord.objects.count()
    response = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books))
    assert response.status_code == 201, response.content
    body = response.json()
    [transfer] = Transfer.objects.filter(client_id="t-1")
    assert body == {"client_id": "t-1", "transfers": [{
        "id": transfer.pk, "group_customer": books.customer.pk, "client_id": "t-1", "leg": 0,
        "kind": "top_up", "phase": "posted", "amount": 10000, "debit_account": books.drawer.pk,
        "credit_account": books.purse.pk, "pending": None, "timeout_at": None,
        "reverses": None, "actor": books.admin.pk, "terminal_code": "", "card_number": "",
        "offline": False, "memo": "", "created_at": body["transfers"][0]["created_at"]}]}
    assert (books.balance(books.purse), books.balance(books.drawer)) == (10000, -10000)
    assert AuditRecord.objects.count() == audit_before + 1
    assert AuditRecord.objects.latest("id").action == "wallet.top_up"

    before = state()
    again = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books))
    assert again.status_code == 200
    assert again.json() == body
    assert state() == before


@pytest.mark.parametrize("changes,code", [
    ({"amount": 10001}, "exists_with_different_amount"),
    ({"member": "bob"}, "exists_with_different_credit_account"),
])
def test_top_up_retry_with_other_content_is_refused(books, admin_a, changes, code):
    admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books))
    if changes.get("member") == "bob":
        changes = {"member": books.bob.pk}
    before = state()
    response = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books, **changes))
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert state() == before


@pytest.mark.parametrize("amount", [
    12.5, 1000.0, "12.5", "1250", True, False, -1, 0, MAX_TRANSFER_FEN + 1, 10**30, None, [100],
    {"fen": 100}, "",
])
def test_amounts_are_integers_of_fen_only(books, admin_a, amount):
    before = state()
    response = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books, amount=amount))
    assert response.status_code == 400
    assert list(response.json()) == ["amount"]
    assert state() == before


def test_the_largest_amount_is_accepted(books, admin_a):
    response = admin_a.post("/api/v1/wallet/top-ups/",
                            top_up_body(books, amount=MAX_TRANSFER_FEN))
    assert response.status_code == 201
    assert books.balance(books.purse) == MAX_TRANSFER_FEN


@pytest.mark.parametrize("client_id", ["", "x" * 65, "a\nb", 7, None, "\x00"])
def test_client_ids_are_short_printable_text(books, admin_a, client_id):
    before = state()
    response = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books, client_id=client_id))
    assert response.status_code == 400
    assert list(response.json()) == ["client_id"]
    assert state() == before


def test_top_up_refuses_bad_references_naming_the_field(books, admin_a, api_as):
    world = books.world
    b_member = world.members_b[0]
    b_drawer = actions.open_cash_drawer(actor=world.ent_admin_b, group_customer=world.customer_b,
                                        code="B-1")
    no_purse = create_member(actor=world.manager, group_customer=world.customer_a,
                             name="New", phone="13900009999")
    before = state()
    cases = [
        ({"member": b_member.pk}, "member"),  # another tenant's member: "does not exist"
        ({"member": 10**17}, "member"),
        ({"member": "x"}, "member"),
        ({"source": b_drawer.pk}, "source"),  # another tenant's drawer
        ({"source": books.bob_purse.pk}, "source"),  # not a drawer or clearing account
        ({"member": no_purse.pk}, "member"),
        ({"unknown": 1}, "unknown"),
    ]
    for changes, field in cases:
        response = admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books, **changes))
        assert response.status_code == 400, (changes, response.content)
        assert list(response.json()) == [field], changes
    # The operator admin sees both customers: mixing them is refused naming the source.
    response = api_as(world.admin).post("/api/v1/wallet/top-ups/",
                                        top_up_body(books, source=b_drawer.pk))
    assert response.status_code == 400
    assert list(response.json()) == ["source"]
    # Answers speak the person's language (zh-Hans unless they chose otherwise).
    assert response.json()["source"] == ["资金来源属于另一个集团客户。"]
    assert state() == before


def test_a_closed_purse_refuses_a_top_up(books, admin_a):
    actions.deregister_purses(actor=books.admin, member=books.carol, client_id="d")
    before = state()
    response = admin_a.post("/api/v1/wallet/top-ups/",
                            top_up_body(books, member=books.carol.pk, client_id="t-c"))
    assert response.status_code == 409
    assert response.json()["code"] == "account_closed"
    assert state() == before


def test_roles_that_may_not_move_money(books, api_as):
    world = books.world
    before = state()
    # Customer B's admin cannot top up A's member.
    response = api_as(world.ent_admin_b).post("/api/v1/wallet/top-ups/", top_up_body(books))
    assert response.status_code == 400
    assert set(response.json()) == {"member", "source"}
    # Service agents read the books but move no money; members and engineers neither.
    for user in (world.agent1, world.agent2, world.member_user_a, world.integrator_engineer,
                 world.vendor_engineer):
        assert api_as(user).post("/api/v1/wallet/top-ups/",
                                 top_up_body(books)).status_code == 404
    assert state() == before


def test_unauthenticated_requests_are_refused(books, api):
    before = state()
    assert api.post("/api/v1/wallet/top-ups/", top_up_body(books)).status_code in (401, 403)
    assert api.get("/api/v1/wallet/accounts/").status_code in (401, 403)
    assert state() == before


@pytest.mark.parametrize("body", [[], "text", 12, [{"amount": 1}], {"member": [1]},
                                  {"member": {"id": 1}}, {"member": True}])
def test_hostile_bodies_are_400_never_500(books, admin_a, body):
    before = state()
    response = admin_a.post("/api/v1/wallet/top-ups/", body, format="json")
    assert response.status_code == 400
    assert state() == before


# --- Refunds and reversals ----------------------------------------------------------------------


@pytest.fixture
def lunch(books):
    actions.top_up(actor=books.admin, member=books.alice, amount=5000, client_id="t",
                   source=books.drawer)
    actions.grant_subsidy(actor=books.admin, member=books.alice, amount=500, client_id="s")
    return actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1500,
                            client_id="p-1")


def test_refund_a_purchase_then_retry(books, admin_a, lunch):
    body = {"purchase_client_id": "p-1", "amount": 1200, "client_id": "rf-1",
            "reason": "cold soup"}
    audit_before = AuditRecord.objects.count()
    response = admin_a.post("/api/v1/wallet/refunds/", body)
    assert response.status_code == 201, response.content
    legs = response.json()["transfers"]
    # The purse leg (1000) first, then 200 of the subsidy leg.
    assert [(t["kind"], t["debit_account"], t["credit_account"], t["amount"], t["memo"])
            for t in legs] == [
        ("refund", books.pos1.pk, books.purse.pk, 1000, "cold soup"),
        ("refund", books.pos1.pk, books.subsidy.pk, 200, "cold soup")]
    assert (books.balance(books.purse), books.balance(books.subsidy),
            books.balance(books.pos1)) == (5000, 200, 300)
    assert AuditRecord.objects.count() == audit_before + 1
    before = state()
    again = admin_a.post("/api/v1/wallet/refunds/", body)
    assert (again.status_code, again.json()) == (200, response.json())
    conflict = admin_a.post("/api/v1/wallet/refunds/", {**body, "amount": 1300})
    assert (conflict.status_code, conflict.json()["code"]) == (409,
                                                               "exists_with_different_amount")
    # Both legs were reversed: a second refund is refused by rule.
    second = admin_a.post("/api/v1/wallet/refunds/", {**body, "client_id": "rf-2",
                                                      "amount": 100})
    assert (second.status_code, second.json()["code"]) == (409, "already_reversed")
    assert state() == before


def test_refund_refusals(books, admin_a, api_as, lunch):
    before = state()
    over = admin_a.post("/api/v1/wallet/refunds/", {"purchase_client_id": "p-1", "amount": 1501,
                                                    "client_id": "rf"})
    assert (over.status_code, over.json()["code"]) == (409, "reversal_exceeds_transfer")
    assert over.json()["amount"]
    unknown = admin_a.post("/api/v1/wallet/refunds/", {"purchase_client_id": "nope",
                                                       "amount": 1, "client_id": "rf"})
    assert (unknown.status_code, list(unknown.json())) == (400, ["purchase_client_id"])
    # A top-up is not a purchase.
    not_purchase = admin_a.post("/api/v1/wallet/refunds/", {"purchase_client_id": "t",
                                                            "amount": 1, "client_id": "rf"})
    assert list(not_purchase.json()) == ["purchase_client_id"]
    # Customer B's admin: A's purchase is not in B's books.
    other = api_as(books.world.ent_admin_b).post(
        "/api/v1/wallet/refunds/", {"purchase_client_id": "p-1", "amount": 1, "client_id": "rf"})
    assert (other.status_code, list(other.json())) == (400, ["purchase_client_id"])
    # Operator staff must say whose books; another's customer "does not exist".
    manager = api_as(books.world.manager)
    missing = manager.post("/api/v1/wallet/refunds/", {"purchase_client_id": "p-1",
                                                       "amount": 1, "client_id": "rf"})
    assert list(missing.json()) == ["group_customer"]
    foreign = manager.post("/api/v1/wallet/refunds/", {
        "purchase_client_id": "p-1", "amount": 1, "client_id": "rf",
        "group_customer": books.world.customer_b.pk})
    assert list(foreign.json()) == ["group_customer"]
    assert state() == before
    ok = manager.post("/api/v1/wallet/refunds/", {
        "purchase_client_id": "p-1", "amount": 1, "client_id": "rf",
        "group_customer": books.customer.pk})
    assert ok.status_code == 201


def test_reverse_a_transfer(books, admin_a):
    top = actions.top_up(actor=books.admin, member=books.alice, amount=3000, client_id="t",
                         source=books.drawer).transfers[0]
    url = f"/api/v1/wallet/transfers/{top.pk}/reverse/"
    before = state()
    too_much = admin_a.post(url, {"client_id": "rv", "amount": 3001})
    assert (too_much.status_code, too_much.json()["code"]) == (409, "reversal_exceeds_transfer")
    assert state() == before
    response = admin_a.post(url, {"client_id": "rv", "amount": 1000, "reason": "typo"})
    assert response.status_code == 201
    [leg] = response.json()["transfers"]
    assert (leg["kind"], leg["reverses"], leg["amount"], leg["debit_account"],
            leg["credit_account"], leg["memo"]) == (
        "reversal", top.pk, 1000, books.purse.pk, books.drawer.pk, "typo")
    assert books.balance(books.purse) == 2000
    before = state()
    assert admin_a.post(url, {"client_id": "rv", "amount": 1000, "reason": "typo"}).json() == \
        response.json()
    again = admin_a.post(url, {"client_id": "rv-2"})
    assert (again.status_code, again.json()["code"]) == (409, "already_reversed")
    assert state() == before


def test_a_reversal_cannot_overdraw_a_purse(books, admin_a):
    top = actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t",
                         source=books.drawer).transfers[0]
    actions.purchase(member=books.alice, merchant_account=books.pos1, amount=600, client_id="p")
    before = state()
    response = admin_a.post(f"/api/v1/wallet/transfers/{top.pk}/reverse/", {"client_id": "rv"})
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_funds")
    assert state() == before


def test_a_hold_cannot_be_reversed(books, admin_a):
    actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t",
                   source=books.drawer)
    held = actions.hold(member=books.alice, merchant_account=books.pos1, amount=300,
                        client_id="h").transfers[0]
    before = state()
    response = admin_a.post(f"/api/v1/wallet/transfers/{held.pk}/reverse/", {"client_id": "rv"})
    assert response.status_code == 409
    assert response.json()["code"] == "not_posted"
    assert state() == before


def test_reversal_of_another_tenants_transfer_is_404(books, api_as):
    top = actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t",
                         source=books.drawer).transfers[0]
    before = state()
    for user in (books.world.ent_admin_b, books.world.agent1, books.world.manager_b):
        response = api_as(user).post(f"/api/v1/wallet/transfers/{top.pk}/reverse/",
                                     {"client_id": "rv"})
        assert response.status_code == 404, user
    assert api_as(books.world.member_user_a).post(
        f"/api/v1/wallet/transfers/{top.pk}/reverse/", {"client_id": "rv"}).status_code == 404
    assert state() == before


# --- Subsidy grants -----------------------------------------------------------------------------


def test_grant_a_subsidy_with_an_expiry(books, admin_a):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    body = {"member": books.bob.pk, "amount": 3000, "client_id": "s-1",
            "expires_at": expires.isoformat()}
    response = admin_a.post("/api/v1/wallet/subsidy-grants/", body)
    assert response.status_code == 201
    assert response.json()["transfers"][0]["credit_account"] == books.bob_subsidy.pk
    books.bob_subsidy.refresh_from_db()
    assert (books.bob_subsidy.balance, books.bob_subsidy.subsidy_expires_at) == (3000, expires)
    assert books.balance(books.equity) == -3000
    before = state()
    assert admin_a.post("/api/v1/wallet/subsidy-grants/", body).status_code == 200
    conflict = admin_a.post("/api/v1/wallet/subsidy-grants/", {**body, "amount": 1})
    assert conflict.json()["code"] == "exists_with_different_amount"
    past = admin_a.post("/api/v1/wallet/subsidy-grants/", {
        **body, "client_id": "s-2", "expires_at": "2000-01-01T00:00:00+08:00"})
    assert (past.status_code, list(past.json())) == (400, ["expires_at"])
    bad = admin_a.post("/api/v1/wallet/subsidy-grants/", {**body, "client_id": "s-2",
                                                          "expires_at": "soon"})
    assert (bad.status_code, list(bad.json())) == (400, ["expires_at"])
    assert state() == before


def test_a_subsidy_needs_an_open_ledger_and_purses(books, admin_a, api_as):
    from onecard.organizations import actions as org

    world = books.world
    no_purse = create_member(actor=world.manager, group_customer=world.customer_a,
                             name="New", phone="13900009999")
    # A customer whose ledger was never opened: purses, but no equity account to pay from.
    customer = org.create_group_customer(actor=world.manager, branch=world.county_a,
                                         name="Customer C", code="GC-c")
    member = create_member(actor=world.manager, group_customer=customer, name="C0",
                           phone="13600000000")
    actions.open_purses(actor=world.manager, member=member)
    before = state()
    response = admin_a.post("/api/v1/wallet/subsidy-grants/", {
        "member": no_purse.pk, "amount": 100, "client_id": "s"})
    assert (response.status_code, list(response.json())) == (400, ["member"])
    response = api_as(world.manager).post("/api/v1/wallet/subsidy-grants/", {
        "member": member.pk, "amount": 100, "client_id": "s"})
    assert (response.status_code, list(response.json())) == (400, ["member"])
    assert state() == before


# --- Accounts and transfers: reading ----------------------------------------------------------


def test_accounts_list_filters_and_tenancy(books, admin_a, api_as):
    a_accounts = set(Account.objects.filter(group_customer=books.customer)
                     .values_list("pk", flat=True))
    assert set(ids(admin_a.get("/api/v1/wallet/accounts/", {"page_size": 500}))) == a_accounts
    assert ids(admin_a.get("/api/v1/wallet/accounts/", {"member": books.alice.pk})) == [
        books.purse.pk, books.subsidy.pk]
    assert ids(admin_a.get("/api/v1/wallet/accounts/", {"merchant": books.canteen.pk})) == [
        books.canteen_main.pk, books.pos1.pk, books.pos2.pk]
    assert ids(admin_a.get("/api/v1/wallet/accounts/", {"kind": "cash_drawer"})) == [
        books.drawer.pk]
    detail = admin_a.get(f"/api/v1/wallet/accounts/{books.drawer.pk}/").json()
    assert (detail["kind"], detail["code"], detail["balance"]) == ("cash_drawer", "COUNTER-1", 0)
    for params in ({"kind": "piggy_bank"}, {"member": "x"}, {"merchant": "-1"}):
        response = admin_a.get("/api/v1/wallet/accounts/", params)
        assert (response.status_code, list(response.json())) == (400, list(params))
    b_admin = api_as(books.world.ent_admin_b)
    assert books.purse.pk not in ids(b_admin.get("/api/v1/wallet/accounts/",
                                                 {"page_size": 500}))
    assert b_admin.get(f"/api/v1/wallet/accounts/{books.purse.pk}/").status_code == 404
    assert ids(b_admin.get("/api/v1/wallet/accounts/", {"member": books.alice.pk})) == []


def test_transfers_list_filters(books, admin_a, clock):
    build_day(books, clock)
    url = "/api/v1/wallet/transfers/"

    def client_ids(params):
        found = Transfer.objects.filter(pk__in=ids(admin_a.get(url, {**params,
                                                                     "page_size": 500})))
        return sorted(f"{t.client_id}/{t.leg}" for t in found)

    assert client_ids({"account": books.pos2.pk}) == ["p-3/0", "po-1/2"]
    assert client_ids({"kind": "refund"}) == ["rf-1/0"]
    assert client_ids({"client_id": "p-2"}) == ["p-2/0", "p-2/1"]
    assert client_ids({"start": "2026-03-10", "end": "2026-03-11", "account":
                       books.purse.pk}) == ["p-1/0", "p-2/1", "p-4/0", "rf-1/0"]
    assert client_ids({"end": "2026-03-10"}) == ["t-1/0"]
    assert client_ids({"start": "2026-03-11"}) == ["p-5/0", "po-1/0", "po-1/1", "po-1/2"]
    for params in ({"start": "yesterday"}, {"account": "1.5"}, {"kind": "gift"},
                   {"client_id": "x" * 65}):
        response = admin_a.get(url, params)
        assert (response.status_code, list(response.json())) == (400, list(params))
    assert admin_a.get(url, {"start": "1900-01-01"}).json()["count"] == 0
    one = Transfer.objects.get(client_id="p-3")
    assert admin_a.get(f"{url}{one.pk}/").json()["amount"] == 500


def test_another_tenant_gets_404_for_accounts_transfers_and_merchants(books, api_as):
    top = actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t",
                         source=books.drawer).transfers[0]
    client = api_as(books.world.ent_admin_b)
    for url in (f"/api/v1/wallet/accounts/{books.purse.pk}/",
                f"/api/v1/wallet/transfers/{top.pk}/",
                f"/api/v1/wallet/merchants/{books.canteen.pk}/",
                f"/api/v1/wallet/merchants/{books.canteen.pk}/daily-statement/",
                f"/api/v1/wallet/members/{books.alice.pk}/statement/?start=2026-01-01&end=2026-02-01",
                f"/api/v1/wallet/group-customers/{books.customer.pk}/reconciliation/"):
        assert client.get(url).status_code == 404, url
    assert ids(client.get("/api/v1/wallet/transfers/")) == []
    assert ids(client.get("/api/v1/wallet/merchants/")) == []


def test_a_member_reads_only_their_own_money(books, api_as):
    actions.top_up(actor=books.admin, member=books.alice, amount=1000, client_id="t-a",
                   source=books.drawer)
    actions.top_up(actor=books.admin, member=books.bob, amount=700, client_id="t-b",
                   source=books.drawer)
    client = api_as(books.world.member_user_a)  # Alice
    assert ids(client.get("/api/v1/wallet/accounts/")) == [books.purse.pk, books.subsidy.pk]
    assert client.get(f"/api/v1/wallet/accounts/{books.purse.pk}/").json()["balance"] == 1000
    assert client.get(f"/api/v1/wallet/accounts/{books.bob_purse.pk}/").status_code == 404
    mine = Transfer.objects.get(client_id="t-a")
    theirs = Transfer.objects.get(client_id="t-b")
    assert ids(client.get("/api/v1/wallet/transfers/")) == [mine.pk]
    assert ids(client.get("/api/v1/wallet/transfers/", {"account": books.drawer.pk})) == [
        mine.pk]
    assert client.get(f"/api/v1/wallet/transfers/{theirs.pk}/").status_code == 404
    today = timezone.localdate()
    params = {"start": today.isoformat(), "end": (today + timedelta(days=1)).isoformat()}
    own = client.get(f"/api/v1/wallet/members/{books.alice.pk}/statement/", params)
    assert own.status_code == 200
    assert [line["client_id"] for line in own.json()["lines"]] == ["t-a"]
    assert client.get(f"/api/v1/wallet/members/{books.bob.pk}/statement/",
                      params).status_code == 404
    # No merchants, policies or reconciliation for a member.
    assert ids(client.get("/api/v1/wallet/merchants/")) == []
    assert ids(client.get("/api/v1/wallet/spending-policies/")) == []
    assert client.get(f"/api/v1/wallet/merchants/{books.canteen.pk}/").status_code == 404
    assert client.get(f"/api/v1/wallet/merchants/{books.canteen.pk}/daily-statement/"
                      ).status_code == 404
    assert client.get(f"/api/v1/wallet/group-customers/{books.customer.pk}/reconciliation/"
                      ).status_code == 404


def test_roles_outside_the_books_get_404(books, api_as):
    for user in (books.world.integrator_engineer, books.world.vendor_engineer):
        client = api_as(user)
        assert client.get("/api/v1/wallet/accounts/").status_code == 404
        assert client.get(f"/api/v1/wallet/accounts/{books.purse.pk}/").status_code == 404


# --- Merchants and spending policies ----------------------------------------------------------


def test_create_and_read_merchants(books, admin_a, api_as):
    audit_before = AuditRecord.objects.count()
    response = admin_a.post("/api/v1/wallet/merchants/", {"name": "Shop", "code": "shop"})
    assert response.status_code == 201, response.content
    body = response.json()
    merchant = Merchant.objects.get(code="shop")
    main = merchant.accounts.get()
    assert body == {"id": merchant.pk, "group_customer": books.customer.pk, "name": "Shop",
                    "code": "shop", "is_active": True, "created_at": body["created_at"],
                    "accounts": [{"id": main.pk, "kind": "merchant", "code": "",
                                  "status": "open", "balance": 0}]}
    assert AuditRecord.objects.count() == audit_before + 1
    assert ids(admin_a.get("/api/v1/wallet/merchants/")) == [books.canteen.pk, merchant.pk]
    detail = admin_a.get(f"/api/v1/wallet/merchants/{books.canteen.pk}/").json()
    assert [a["code"] for a in detail["accounts"]] == ["", "POS-1", "POS-2"]
    before = state()
    for body, status, field in [
        # A duplicate code is a 409 naming the code (see the test below).
        ({"name": "Again", "code": "shop"}, 409, "code"),
        ({"name": "Bad", "code": "no spaces"}, 400, "code"),
        ({"name": "", "code": "x"}, 400, "name"),
        ({"name": "X", "code": "x", "group_customer": books.world.customer_b.pk}, 400,
         "group_customer"),
        ({"name": "X", "code": "x", "is_active": False}, 400, "is_active"),
    ]:
        response = admin_a.post("/api/v1/wallet/merchants/", body)
        assert response.status_code == status, (body, response.content)
        assert field in response.json()
    assert api_as(books.world.agent1).post("/api/v1/wallet/merchants/", {
        "name": "X", "code": "x", "group_customer": books.customer.pk}).status_code == 400
    assert state() == before
    # The customer manager names the customer.
    response = api_as(books.world.manager).post("/api/v1/wallet/merchants/", {
        "name": "Kiosk", "code": "kiosk", "group_customer": books.customer.pk})
    assert response.status_code == 201


def test_a_duplicate_merchant_code_is_a_conflict_naming_the_code(books, admin_a):
    admin_a.post("/api/v1/wallet/merchants/", {"name": "Shop", "code": "shop"})
    before = state()
    response = admin_a.post("/api/v1/wallet/merchants/", {"name": "Again", "code": "shop"})
    assert state() == before
    assert (response.status_code, list(response.json())) == (409, ["code", "error_code"])


def test_set_spending_policies(books, admin_a, api_as):
    response = admin_a.post("/api/v1/wallet/spending-policies/", {
        "category": "staff", "per_transaction_limit": 5000, "pin_threshold": 2000})
    assert response.status_code == 200, response.content
    policy = SpendingPolicy.objects.get()
    assert (policy.group_customer, policy.per_transaction_limit, policy.daily_limit,
            policy.pin_threshold) == (books.customer, 5000, None, 2000)
    response = admin_a.post("/api/v1/wallet/spending-policies/", {
        "category": "staff", "pin_threshold": None, "daily_limit": 20000})
    policy.refresh_from_db()
    assert (policy.per_transaction_limit, policy.daily_limit, policy.pin_threshold) == (
        5000, 20000, None)
    assert ids(admin_a.get("/api/v1/wallet/spending-policies/")) == [policy.pk]
    assert ids(api_as(books.world.ent_admin_b).get("/api/v1/wallet/spending-policies/")) == []
    before = state()
    for body, field in [({"category": "alien"}, "category"),
                        ({"category": "staff", "daily_limit": 0}, "daily_limit"),
                        ({"category": "staff", "daily_limit": 12.5}, "daily_limit"),
                        ({"category": "staff", "pin_threshold": "100"}, "pin_threshold"),
                        ({"category": "staff", "weekly_limit": 1}, "weekly_limit")]:
        response = admin_a.post("/api/v1/wallet/spending-policies/", body)
        assert (response.status_code, list(response.json())) == (400, [field])
    assert state() == before


def test_a_policy_set_through_the_api_refuses_purchases_by_rule(books, admin_a):
    admin_a.post("/api/v1/wallet/spending-policies/", {"category": "staff",
                                                       "per_transaction_limit": 1000})
    admin_a.post("/api/v1/wallet/top-ups/", top_up_body(books))
    from onecard.wallet.errors import LedgerRefused

    before = state()
    with pytest.raises(LedgerRefused) as refused:
        actions.purchase(member=books.alice, merchant_account=books.pos1, amount=1001,
                         client_id="p")
    assert refused.value.code == "limit_per_transaction"
    assert state() == before


# --- Statements -------------------------------------------------------------------------------


def test_member_statement_json_and_xlsx(books, admin_a, clock):
    build_day(books, clock)
    url = f"/api/v1/wallet/members/{books.alice.pk}/statement/"
    params = {"start": "2026-03-10", "end": "2026-03-11"}
    body = admin_a.get(url, params).json()
    assert (body["opening"], body["closing"]) == (10000, 7700)
    assert [(line["client_id"], line["change"], line["balance"]) for line in body["lines"]] == [
        ("p-1", -1250, 8750), ("s-1", 3000, 3000), ("p-2", -3000, 0), ("p-2", -1000, 7750),
        ("rf-1", 250, 8000), ("p-4", -300, 7700)]
    assert body["start"] == "2026-03-10T00:00:00+08:00"
    response = admin_a.get(url, {**params, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert 'filename="statement-' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "个人对账单"  # the admin's language
    for params, field in [({"start": "2026-03-10"}, "end"),
                          ({"start": "2026-03-10", "end": "2026-03-10"}, "end"),
                          ({"start": "2025-01-01", "end": "2026-03-10"}, "end"),
                          ({"start": "10/03/2026", "end": "2026-03-11"}, "start"),
                          ({"start": "0001-01-01", "end": "2026-03-11"}, "start")]:
        response = admin_a.get(url, params)
        assert (response.status_code, list(response.json())) == (400, [field]), params
        # The refusal is JSON even when the workbook was asked for.
        response = admin_a.get(url, {**params, "format": "xlsx"})
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
    assert admin_a.get(f"/api/v1/wallet/members/{10**17}/statement/", params).status_code == 404


def test_merchant_daily_statement_json_and_xlsx(books, admin_a, clock):
    build_day(books, clock)
    url = f"/api/v1/wallet/merchants/{books.canteen.pk}/daily-statement/"
    body = admin_a.get(url, {"day": "2026-03-10"}).json()
    assert body["total"]["purchases"] == 6050
    assert [(a["code"], a["purchases_count"], a["net"]) for a in body["accounts"]] == [
        ("", 1, 300), ("POS-1", 2, 4900), ("POS-2", 1, 500)]
    # Without a day: today (D+1 on the clock).
    assert admin_a.get(url).json()["day"] == "2026-03-11"
    response = admin_a.get(url, {"day": "2026-03-10", "format": "xlsx"})
    assert (response.status_code, response["Content-Type"]) == (200, XLSX)
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(
        values_only=True))
    assert rows[4][:4] == ("Canteen POS-1", 0, 2, 52.5)
    assert list(admin_a.get(url, {"day": "13/13/2026"}).json()) == ["day"]


def test_reconciliation_json_and_xlsx(books, admin_a, api_as, clock):
    build_day(books, clock)
    url = f"/api/v1/wallet/group-customers/{books.customer.pk}/reconciliation/"
    body = admin_a.get(url, {"day": "2026-03-10"}).json()
    assert body["balanced"] is True
    assert body["total"]["debits"] == body["total"]["credits"] == 11400
    purse = next(k for k in body["kinds"] if k["kind"] == "member_purse")
    assert (purse["opening"], purse["closing"], purse["stored"]) == (10000, 9200, None)
    today = admin_a.get(url).json()
    assert today["is_today"] and today["balanced"]
    response = admin_a.get(url, {"format": "xlsx"})
    assert (response.status_code, response["Content-Type"]) == (200, XLSX)
    assert openpyxl.load_workbook(io.BytesIO(response.content)).active["A2"].value == "平衡"
    # Operator staff who see the customer read its books too; the other county's manager not.
    assert api_as(books.world.agent1).get(url).status_code == 200
    assert api_as(books.world.manager_b).get(url).status_code == 404
    assert admin_a.get("/api/v1/wallet/group-customers/999999/reconciliation/"
                       ).status_code == 404
