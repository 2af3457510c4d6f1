"""Application plans, opening over the air and locally, delivery of provisioning jobs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from onecard.audit.models import AuditRecord
from onecard.cards import credentials
from onecard.cards.actions import lifecycle, stock
from onecard.cards.actions import provisioning as prov
from onecard.cards.channels import ChannelError, LocalChannel
from onecard.cards.models import (
    ApplicationPlan,
    CardApplication,
    CardEvent,
    CredentialChange,
    ProvisioningJob,
)
from onecard.core.errors import Conflict, DomainError, InvalidInput, NotAllowed

from .test_stock import serial, sim_row

KINDS = ("identity", "access", "attendance", "purse")


def issue(world, card, member):
    """Issue ``card`` to ``member`` through the lifecycle action."""
    return lifecycle.issue_card(actor=world.admin, card=card, member=member)


def state():
    """Everything an opening refusal must leave untouched."""
    return (list(CardApplication.objects.order_by("pk").values_list("pk", "status")),
            list(ProvisioningJob.objects.order_by("pk").values_list("pk", "status", "attempts")),
            list(ApplicationPlan.objects.order_by("pk").values_list("pk", "enabled", "quota")),
            CardEvent.objects.count(), AuditRecord.objects.count(),
            CredentialChange.objects.count())


class Stub:
    """A channel whose sends fail while ``failing`` and that never confirms by itself."""

    confirms_on_send = False

    def __init__(self, failing=False):
        self.failing = failing
        self.sent = []

    def send(self, job):
        if self.failing:
            raise ChannelError("SMSC unreachable")
        self.sent.append(job.pk)
        return f"smsc-{job.pk}"


@pytest.fixture
def plans(world):
    for customer in (world.customer_a, world.customer_b):
        for kind in KINDS:
            prov.set_application_plan(actor=world.admin, group_customer=customer, kind=kind,
                                      enabled=True)
    return world


def _cards(world, start, count, branch, customer, medium="rfid_sim"):
    if medium == "rfid_sim":
        rows = [sim_row(start + i) for i in range(count)]
    else:
        rows = [{"number": f"{start + i:08X}", "chip_type": "m1"} for i in range(count)]
    cards = stock.receive_cards(actor=world.admin, branch=branch, medium=medium, cards=rows)
    return stock.assign_cards(actor=world.admin, cards=cards, group_customer=customer)


@pytest.fixture
def issued(plans):
    """Every member of A and B holds an active RFID-SIM card; ``world.card_a0`` etc."""
    w = plans
    for tag, branch, customer, start in (("a", w.county_a, w.customer_a, 100),
                                         ("b", w.county_b, w.customer_b, 200)):
        members = getattr(w, f"members_{tag}")
        cards = _cards(w, start, len(members), branch, customer)
        for index, (card, member) in enumerate(zip(cards, members, strict=True)):
            setattr(w, f"card_{tag}{index}", issue(w, card, member))
    return w


def request(world, member=None, kind="access", actor=None, **kwargs):
    member = member or world.members_a[0]
    arguments = {"actor": actor or world.ent_admin_a, "group_customer": member.group_customer,
                 "phone": member.phone, "name": member.name, "kind": kind, **kwargs}
    return prov.request_application_opening(**arguments)


# --- Plans --------------------------------------------------------------------------------


def test_set_application_plan_upserts_with_audit(world):
    plan = prov.set_application_plan(actor=world.manager, group_customer=world.customer_a,
                                     kind="purse", enabled=True, quota=10)
    again = prov.set_application_plan(actor=world.manager, group_customer=world.customer_a,
                                      kind="purse", enabled=False, quota=None)
    assert (again.pk, again.enabled, again.quota) == (plan.pk, False, None)
    audits = AuditRecord.objects.filter(action="card.application_plan.set").order_by("id")
    assert [(a.before, a.after["enabled"]) for a in audits] == [
        (None, True), ({"enabled": True, "quota": 10}, False)]


@pytest.mark.parametrize("user", ["manager_b", "ent_admin_a", "member_user_a", "agent1",
                                  "integrator_engineer"])
def test_only_admins_and_the_customers_manager_set_plans(world, user):
    before = state()
    with pytest.raises(NotAllowed):
        prov.set_application_plan(actor=getattr(world, user), group_customer=world.customer_a,
                                  kind="access", enabled=True)
    assert state() == before


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "parking"}, "kind"), ({"enabled": "yes"}, "enabled"), ({"quota": -1}, "quota"),
    ({"quota": True}, "quota"), ({"quota": "5"}, "quota"), ({"quota": 10**9}, "quota"),
])
def test_bad_plan_input_is_refused(world, kwargs, field):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        prov.set_application_plan(**{"actor": world.admin, "group_customer": world.customer_a,
                                     "kind": "access", "enabled": True, **kwargs})
    assert list(refused.value.errors) == [field]
    assert state() == before


# --- Opening over the air ----------------------------------------------------------------


def test_request_queues_a_job_and_a_pending_application(issued):
    w = issued
    job = request(w)
    application = job.application
    assert (application.card_id, application.kind, application.status, application.channel,
            application.requested_by_id) == (w.card_a0.pk, "access", "pending", "ota",
                                             w.ent_admin_a.pk)
    assert (job.status, job.attempts, job.max_attempts, job.group_customer_id) == (
        "queued", 0, 5, w.customer_a.pk)
    assert timedelta(hours=23, minutes=59) < job.expires_at - timezone.now() <= timedelta(hours=24)
    event = CardEvent.objects.filter(card=w.card_a0).last()
    assert (event.kind, event.application_id, event.detail["job"]) == (
        "application_requested", application.pk, job.pk)
    assert AuditRecord.objects.filter(action="card.provisioning.queued",
                                      object_id=str(job.pk)).count() == 1


def test_expiry_follows_the_setting(issued, settings):
    settings.ONECARD_OTA_EXPIRY = 3600
    job = request(issued)
    assert timedelta(minutes=59) < job.expires_at - timezone.now() <= timedelta(hours=1)


def test_a_member_requests_for_themself(issued):
    w = issued
    job = request(w, actor=w.member_user_a, kind="attendance")
    assert job.application.requested_by_id == w.member_user_a.pk
    before = state()
    with pytest.raises(InvalidInput) as refused:
        request(w, member=w.members_a[1], actor=w.member_user_a)
    assert refused.value.field == "phone"
    with pytest.raises(NotAllowed):
        request(w, member=w.members_b[0], actor=w.member_user_a)
    assert state() == before


def test_a_manager_requests_only_for_their_customers(issued):
    w = issued
    assert request(w, actor=w.manager).status == "queued"
    before = state()
    with pytest.raises(NotAllowed):
        request(w, member=w.members_b[1], actor=w.manager)
    with pytest.raises(NotAllowed):
        request(w, member=w.members_a[1], actor=w.ent_admin_b)
    with pytest.raises(NotAllowed):
        request(w, member=w.members_a[1], actor=w.integrator_engineer)
    assert state() == before


def test_not_in_roster_and_wrong_name_are_refused_naming_the_field(issued):
    w = issued
    before = state()
    with pytest.raises(InvalidInput) as refused:
        request(w, phone="13999999999")
    assert refused.value.errors == {
        "phone": ["This phone number is not in the group customer's roster."]}
    assert refused.value.code == "not_in_roster"
    with pytest.raises(InvalidInput) as refused:  # a phone of customer B's roster
        request(w, phone=w.members_b[1].phone)
    assert refused.value.code == "not_in_roster"
    with pytest.raises(InvalidInput) as refused:
        request(w, name="Somebody Else")
    assert refused.value.errors == {
        "name": ["The name does not match the roster entry for this phone number."]}
    assert state() == before


def test_application_not_enabled_or_over_quota_is_refused(issued):
    w = issued
    prov.set_application_plan(actor=w.admin, group_customer=w.customer_a, kind="purse",
                              enabled=False)
    prov.set_application_plan(actor=w.admin, group_customer=w.customer_a, kind="access",
                              enabled=True, quota=1)
    request(w, kind="access")
    before = state()
    with pytest.raises(DomainError) as refused:
        request(w, kind="purse")
    assert (refused.value.code, refused.value.field, refused.value.message) == (
        "application_not_enabled", "kind",
        "The group customer has not enabled the Purse application.")
    with pytest.raises(DomainError) as refused:
        request(w, member=w.members_a[1], kind="access")
    assert refused.value.code == "quota_exhausted"
    assert state() == before


def test_unverified_customer_is_refused(issued):
    from onecard.organizations import actions as org

    w = issued
    org.suspend_group_customer(actor=w.admin, group_customer=w.customer_a, reason="Arrears")
    w.customer_a.refresh_from_db()
    before = state()
    with pytest.raises(DomainError) as refused:
        request(w)
    assert refused.value.code == "customer_not_verified"
    assert state() == before


def test_second_request_while_pending_or_active_is_refused(issued):
    w = issued
    job = request(w)
    before = state()
    with pytest.raises(Conflict) as refused:
        request(w)
    assert refused.value.code == "opening_pending"
    assert state() == before
    prov.deliver_provisioning_jobs(channel=LocalChannel())
    job.refresh_from_db()
    assert job.status == "delivered"
    before = state()
    with pytest.raises(Conflict) as refused:
        request(w)
    assert refused.value.code == "application_exists"
    assert state() == before


def test_ic_cards_open_locally_only(plans):
    w = plans
    card = _cards(w, 0xA0000001, 1, w.county_a, w.customer_a, medium="ic_card")[0]
    issue(w, card, w.members_a[2])
    before = state()
    with pytest.raises(DomainError) as refused:
        request(w, member=w.members_a[2])
    assert (refused.value.code, refused.value.message) == (
        "ic_card_local_only", "IC cards open locally only: use an issuing terminal.")
    assert state() == before


def test_member_without_a_card_is_refused(plans):
    before = state()
    with pytest.raises(DomainError) as refused:
        request(plans)
    assert refused.value.code == "no_card"
    assert state() == before


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "parking"}, "kind"), ({"kind": None}, "kind"), ({"phone": 139}, "phone"),
    ({"phone": ""}, "phone"), ({"name": "x" * 101}, "name"), ({"phone": "1" * 21}, "phone"),
])
def test_malformed_request_is_refused(issued, kwargs, field):
    before = state()
    with pytest.raises(InvalidInput) as refused:
        request(issued, **kwargs)
    assert list(refused.value.errors) == [field]
    assert state() == before


# --- Delivery -----------------------------------------------------------------------------


def test_local_channel_delivers_and_publishes(issued):
    w = issued
    job = request(w)
    version = credentials.current_version(w.customer_a.pk)
    counts = prov.deliver_provisioning_jobs(channel=LocalChannel())
    assert counts == {"sent": 0, "delivered": 1, "retrying": 0, "failed": 0, "expired": 0}
    job.refresh_from_db()
    job.application.refresh_from_db()
    assert (job.status, job.attempts, job.channel_reference, job.application.status) == (
        "delivered", 1, f"local-{job.pk}-1", "active")
    assert job.delivered_at is not None and job.application.opened_at is not None
    change = CredentialChange.objects.get(group_customer=w.customer_a,
                                          version=version + 1)
    assert (change.card_id, change.state, change.applications) == (w.card_a0.pk, "allow",
                                                                   ["access"])
    kinds = list(CardEvent.objects.filter(card=w.card_a0, application=job.application)
                 .values_list("kind", flat=True))
    assert kinds == ["application_requested", "application_opened"]
    assert prov.deliver_provisioning_jobs(channel=LocalChannel())["delivered"] == 0


def test_sent_then_confirmed_by_the_channel(issued):
    w = issued
    job = request(w)
    channel = Stub()
    assert prov.deliver_provisioning_jobs(channel=channel)["sent"] == 1
    job.refresh_from_db()
    assert (job.status, job.channel_reference, channel.sent) == ("sent", f"smsc-{job.pk}",
                                                                 [job.pk])
    assert prov.deliver_provisioning_jobs(channel=channel)["sent"] == 0  # not sent twice
    prov.confirm_delivery(job=job, success=True, detail="PoR 00")
    job.refresh_from_db()
    assert (job.status, job.application.status) == ("delivered", "active")
    before = state()
    with pytest.raises(Conflict) as refused:
        prov.confirm_delivery(job=job, success=True)
    assert refused.value.code == "job_not_sent"
    assert state() == before


def test_failed_sends_back_off_then_fail(issued):
    w = issued
    job = request(w)
    channel = Stub(failing=True)
    now = timezone.now()
    waits = []
    for attempt in range(1, 6):
        counts = prov.deliver_provisioning_jobs(channel=channel, now=now)
        job.refresh_from_db()
        assert job.attempts == attempt
        if attempt < 5:
            assert counts["retrying"] == 1 and job.status == "retrying"
            assert job.last_error == "SMSC unreachable"
            waits.append(job.next_attempt_at - now)
            # Not due yet: nothing happens.
            assert prov.deliver_provisioning_jobs(channel=channel, now=now)["retrying"] == 0
            now = job.next_attempt_at
        else:
            assert counts["failed"] == 1
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    job.application.refresh_from_db()
    assert (job.status, job.application.status) == ("failed", "failed")
    assert CardEvent.objects.filter(card=w.card_a0).last().kind == "application_failed"
    # A failed opening may be requested again; the old application is deleted.
    again = request(w)
    job.application.refresh_from_db()
    assert (again.status, job.application.status) == ("queued", "deleted")


def test_failed_proof_of_receipt_retries(issued):
    job = request(issued)
    prov.deliver_provisioning_jobs(channel=Stub())
    job.refresh_from_db()
    prov.confirm_delivery(job=job, success=False, detail="PoR 01: RC/CC/DS failed")
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("retrying", "PoR 01: RC/CC/DS failed")


def test_overdue_jobs_expire(issued):
    w = issued
    queued = request(w)
    sent = request(w, member=w.members_a[1])
    prov.deliver_provisioning_jobs(channel=Stub(), now=timezone.now())
    ProvisioningJob.objects.filter(pk=queued.pk).update(next_attempt_at=timezone.now()
                                                        + timedelta(hours=30))
    later = timezone.now() + timedelta(hours=25)
    counts = prov.deliver_provisioning_jobs(channel=Stub(), now=later)
    assert counts["expired"] == 2
    for job in (queued, sent):
        job.refresh_from_db()
        job.application.refresh_from_db()
        assert (job.status, job.application.status) == ("expired", "failed")


def test_local_channel_failure_rate(issued):
    job = request(issued)
    counts = prov.deliver_provisioning_jobs(channel=LocalChannel(failure_rate=1.0))
    assert counts["retrying"] == 1
    job.refresh_from_db()
    assert job.last_error == "local channel: simulated delivery failure"


def test_channel_from_settings(issued, settings):
    settings.ONECARD_OTA_CHANNEL = "onecard.cards.channels.LocalChannel"
    request(issued)
    assert prov.deliver_provisioning_jobs()["delivered"] == 1


def test_cancel(issued):
    w = issued
    job = request(w)
    before = state()
    for user in ("ent_admin_b", "manager_b", "member_user_a", "integrator_engineer"):
        with pytest.raises(NotAllowed):
            prov.cancel_provisioning(actor=getattr(w, user), job=job)
    assert state() == before
    prov.cancel_provisioning(actor=w.ent_admin_a, job=job, reason="Wrong application")
    job.refresh_from_db()
    job.application.refresh_from_db()
    assert (job.status, job.application.status) == ("cancelled", "deleted")
    assert prov.deliver_provisioning_jobs(channel=LocalChannel())["delivered"] == 0
    before = state()
    with pytest.raises(Conflict) as refused:
        prov.cancel_provisioning(actor=w.admin, job=job)
    assert refused.value.code == "job_closed"
    assert state() == before
    assert request(w).status == "queued"


# --- Opening locally ----------------------------------------------------------------------


def test_open_locally_is_active_at_once(issued):
    w = issued
    version = credentials.current_version(w.customer_a.pk)
    application = prov.open_application_locally(actor=w.integrator_engineer, card=w.card_a1,
                                                kind="identity", terminal_code="ISS-01")
    assert (application.status, application.channel) == ("active", "local")
    event = CardEvent.objects.filter(card=w.card_a1).last()
    assert (event.kind, event.detail["terminal_code"]) == ("application_opened", "ISS-01")
    change = CredentialChange.objects.get(group_customer=w.customer_a, version=version + 1)
    assert change.applications == ["identity"]


def test_ic_card_opens_locally_but_m1_carries_no_purse(plans):
    w = plans
    card = issue(w, _cards(w, 0xB0000001, 1, w.county_a, w.customer_a, "ic_card")[0],
                 w.members_a[2])
    assert prov.open_application_locally(actor=None, card=card, kind="access",
                                         terminal_code="ISS-02").status == "active"
    before = state()
    with pytest.raises(DomainError) as refused:
        prov.open_application_locally(actor=w.ent_admin_a, card=card, kind="purse")
    assert refused.value.code == "m1_no_purse"
    assert state() == before


def test_open_locally_refusals_change_nothing(issued):
    w = issued
    prov.set_application_plan(actor=w.admin, group_customer=w.customer_a, kind="purse",
                              enabled=False)
    stock_card = stock.receive_cards(actor=w.admin, branch=w.county_a, medium="rfid_sim",
                                     cards=[sim_row(900)])[0]
    request(w, kind="access")
    before = state()
    with pytest.raises(DomainError) as refused:
        prov.open_application_locally(actor=w.admin, card=w.card_a0, kind="purse")
    assert refused.value.code == "application_not_enabled"
    with pytest.raises(Conflict) as refused:
        prov.open_application_locally(actor=w.admin, card=w.card_a0, kind="access")
    assert refused.value.code == "opening_pending"
    with pytest.raises(DomainError) as refused:
        prov.open_application_locally(actor=w.admin, card=stock_card, kind="access")
    assert refused.value.code == "card_not_active"
    with pytest.raises(NotAllowed):
        prov.open_application_locally(actor=w.ent_admin_b, card=w.card_a0, kind="identity")
    with pytest.raises(NotAllowed):
        prov.open_application_locally(actor=w.member_user_a, card=w.card_a0, kind="identity")
    with pytest.raises(InvalidInput):
        prov.open_application_locally(actor=w.admin, card=w.card_a0, kind="identity",
                                      terminal_code="x" * 65)
    assert state() == before
    assert serial(900) == stock_card.number


def test_deliver_provisioning_command(issued):
    from io import StringIO

    from django.core.management import call_command

    job = request(issued)
    out = StringIO()
    call_command("deliver_provisioning", stdout=out)
    assert out.getvalue().strip() == "sent 0, delivered 1, retrying 0, failed 0, expired 0"
    job.refresh_from_db()
    assert job.status == "delivered"


def test_a_broken_channel_counts_as_a_failed_attempt(issued):
    class Broken:
        confirms_on_send = False

        def send(self, job):
            raise RuntimeError("adapter bug")

    job = request(issued)
    assert prov.deliver_provisioning_jobs(channel=Broken())["retrying"] == 1
    job.refresh_from_db()
    assert (job.status, job.last_error) == ("retrying", "channel fault: RuntimeError")
