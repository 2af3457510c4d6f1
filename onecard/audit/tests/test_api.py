"""The audit log through the public API: read-only, scoped to who may read which chain."""

import pytest

from onecard.audit.models import AuditRecord


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def test_operator_admin_reads_every_record_newest_first(world, api_as):
    response = api_as(world.admin).get("/api/v1/audit-records/", {"page_size": 500})
    assert response.status_code == 200
    assert ids(response) == list(AuditRecord.objects.order_by("-id").values_list("id", flat=True))
    newest = AuditRecord.objects.latest("id")
    assert response.json()["results"][0] == {
        "id": newest.pk, "chain": newest.chain, "chain_seq": newest.chain_seq,
        "created_at": response.json()["results"][0]["created_at"], "actor": newest.actor_id,
        "actor_label": newest.actor_label, "action": newest.action,
        "object_type": newest.object_type, "object_id": newest.object_id,
        "group_customer_id": newest.group_customer_id, "reason": newest.reason,
        "before": newest.before, "after": newest.after, "prev_hash": newest.prev_hash,
        "hash": newest.hash,
    }


def test_enterprise_admin_reads_only_their_customers_records(world, api_as):
    response = api_as(world.ent_admin_a).get("/api/v1/audit-records/", {"page_size": 500})
    expected = AuditRecord.objects.filter(group_customer_id=world.customer_a.pk)
    assert response.json()["count"] == expected.count() > 0
    assert {r["group_customer_id"] for r in response.json()["results"]} == {world.customer_a.pk}
    other = AuditRecord.objects.filter(group_customer_id=world.customer_b.pk).first()
    platform = AuditRecord.objects.filter(group_customer_id=None).first()
    client = api_as(world.ent_admin_a)
    assert client.get(f"/api/v1/audit-records/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/audit-records/{platform.pk}/").status_code == 404
    mine = expected.first()
    assert client.get(f"/api/v1/audit-records/{mine.pk}/").json()["id"] == mine.pk


@pytest.mark.parametrize("who", ["manager", "agent1", "member_user_a", "vendor_engineer",
                                 "integrator_engineer"])
def test_nobody_else_reads_the_audit_log(world, api_as, who):
    client = api_as(getattr(world, who))
    assert client.get("/api/v1/audit-records/").json()["count"] == 0
    record = AuditRecord.objects.first()
    assert client.get(f"/api/v1/audit-records/{record.pk}/").status_code == 404


def test_audit_filters(world, api_as):
    client = api_as(world.admin)
    member = world.members_a[1]
    by_object = client.get("/api/v1/audit-records/", {"object_type": "people.member",
                                                      "object_id": str(member.pk)})
    assert [r["action"] for r in by_object.json()["results"]] == ["member.created"]
    created = client.get("/api/v1/audit-records/", {"action": "member.created",
                                                    "page_size": 100})
    assert created.json()["count"] == 6
    by_customer = client.get("/api/v1/audit-records/", {"group_customer": world.customer_b.pk,
                                                        "action": "department.created"})
    assert by_customer.json()["count"] == 2
    by_actor = client.get("/api/v1/audit-records/", {"actor": world.manager_b.pk,
                                                     "page_size": 100})
    assert {r["actor_label"] for r in by_actor.json()["results"]} == {"manager_b"}


def test_an_api_write_shows_up_in_the_log(world, api_as):
    api_as(world.ent_admin_a).post(f"/api/v1/members/{world.members_a[2].pk}/suspend/",
                                   {"reason": "Leave"})
    latest = api_as(world.ent_admin_a).get("/api/v1/audit-records/").json()["results"][0]
    assert (latest["action"], latest["actor"], latest["reason"], latest["after"]) == (
        "member.suspended", world.ent_admin_a.pk, "Leave", {"status": "suspended"})


def test_the_log_is_read_only(world, api_as):
    client = api_as(world.admin)
    record = AuditRecord.objects.first()
    count = AuditRecord.objects.count()
    assert client.post("/api/v1/audit-records/", {"action": "forged"}).status_code == 405
    assert client.patch(f"/api/v1/audit-records/{record.pk}/",
                        {"action": "forged"}).status_code == 405
    assert client.delete(f"/api/v1/audit-records/{record.pk}/").status_code == 405
    assert AuditRecord.objects.count() == count
    record_after = AuditRecord.objects.get(pk=record.pk)
    assert (record_after.action, record_after.hash) == (record.action, record.hash)
