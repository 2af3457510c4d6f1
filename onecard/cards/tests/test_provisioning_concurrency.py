"""Delivery workers running side by side never send one job twice, and two openings cannot
both take the last place of a quota (PostgreSQL: real row locks across connections)."""

import threading
import time

import pytest
from django.db import connection

from onecard.cards.actions import provisioning as prov
from onecard.cards.channels import LocalChannel
from onecard.cards.models import CardApplication, ProvisioningJob
from onecard.core.errors import DomainError

from .test_provisioning import issued, plans, request  # noqa: F401 (fixtures)


class SlowChannel(LocalChannel):
    """The local channel, slow enough for the other worker to look at the same jobs."""

    def __init__(self, log):
        super().__init__()
        self.log = log

    def send(self, job):
        time.sleep(0.05)
        self.log.append(job.pk)
        return super().send(job)


def _run(workers):
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()
        return run

    threads = [threading.Thread(target=wrap(target)) for target in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_delivery_sends_each_job_once(issued):  # noqa: F811
    w = issued
    jobs = ([request(w, member=member) for member in w.members_a]
            + [request(w, member=member, actor=w.ent_admin_b) for member in w.members_b])
    log = []
    errors = _run([lambda: prov.deliver_provisioning_jobs(channel=SlowChannel(log))] * 3)
    assert errors == []
    assert sorted(log) == sorted(job.pk for job in jobs)
    assert set(ProvisioningJob.objects.values_list("status", "attempts")) == {("delivered", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_openings_respect_the_quota(issued):  # noqa: F811
    w = issued
    prov.set_application_plan(actor=w.admin, group_customer=w.customer_a, kind="access",
                              enabled=True, quota=1)
    outcomes = []

    def open_for(member):
        def run():
            try:
                request(w, member=member)
                outcomes.append("ok")
            except DomainError as refusal:
                outcomes.append(refusal.code)
        return run

    errors = _run([open_for(member) for member in w.members_a])
    assert errors == []
    assert sorted(outcomes) == ["ok", "quota_exhausted", "quota_exhausted"]
    assert CardApplication.objects.filter(group_customer=w.customer_a, kind="access").count() == 1
