"""The audit log pages: read-only, an operator admin reads everything, an enterprise admin only
their own customer's records, everybody else gets 404."""

import pytest
from django.urls import reverse

from onecard.accounts.models import User
from onecard.audit.models import AuditRecord


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_operator_admin_reads_every_record(world, as_user):
    client = as_user(world.admin)
    page = client.get(reverse("console:audit-list"))
    assert page.status_code == 200
    assert page.context["page"].paginator.count == AuditRecord.objects.count()


def test_enterprise_admin_reads_only_their_customer(world, as_user):
    client = as_user(world.ent_admin_a)
    page = client.get(reverse("console:audit-list"))
    records = list(page.context["page"])
    assert records
    assert {record.group_customer_id for record in records} == {world.customer_a.pk}
    assert page.context["page"].paginator.count == AuditRecord.objects.filter(
        group_customer_id=world.customer_a.pk).count()


def test_filters(world, as_user):
    client = as_user(world.admin)
    page = client.get(reverse("console:audit-list"), {"action": "member.created"})
    assert page.context["page"].paginator.count == 6
    member = world.members_a[0]
    page = client.get(reverse("console:audit-list"),
                      {"object_type": "people.member", "object_id": str(member.pk)})
    assert [r.action for r in page.context["page"]] == ["member.created"]
    response = client.get(reverse("console:audit-list"), {"action": "x" * 500})
    assert response.status_code == 200


def test_detail_shows_before_and_after(world, as_user):
    client = as_user(world.ent_admin_a)
    record = AuditRecord.objects.filter(group_customer_id=world.customer_a.pk,
                                        action="member.created").first()
    page = client.get(reverse("console:audit-detail", args=[record.pk]))
    assert page.status_code == 200
    assert record.hash in page.content.decode()
    assert record.after["phone"] in page.context["after"]


def test_records_of_another_customer_answer_404(world, as_user):
    client = as_user(world.ent_admin_a)
    record = AuditRecord.objects.filter(group_customer_id=world.customer_b.pk).first()
    assert client.get(reverse("console:audit-detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("console:audit-detail", args=[10**12])).status_code == 404


@pytest.mark.parametrize("username", ["manager", "agent1", "member_a", "engineer"])
def test_other_roles_get_404(world, as_user, username):
    client = as_user(User.objects.get(username=username))
    assert client.get(reverse("console:audit-list")).status_code == 404
    record = AuditRecord.objects.first()
    assert client.get(reverse("console:audit-detail", args=[record.pk])).status_code == 404


def test_the_log_is_read_only(world, as_user):
    client = as_user(world.admin)
    count = AuditRecord.objects.count()
    assert client.post(reverse("console:audit-list"), {}).status_code == 405
    record = AuditRecord.objects.first()
    assert client.post(reverse("console:audit-detail", args=[record.pk])).status_code == 405
    assert AuditRecord.objects.count() == count
