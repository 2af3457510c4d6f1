"""The stock and provisioning demo steps: built through the actions, idempotent."""

import pytest

from onecard.cards.models import (
    ApplicationPlan,
    CalibrationRecord,
    Card,
    PhoneModel,
    ProvisioningJob,
)
from onecard.demo import load_demo

pytestmark = pytest.mark.django_db

MEMBERS = 50  # more than the cards demo issues to, so some members are left for openings
OWN_SIMS = "2326010150"  # the stock demo's RFID-SIM serials start so; its IC UIDs with "DC"


def counts():
    return (PhoneModel.objects.count(), ApplicationPlan.objects.count(), Card.objects.count(),
            ProvisioningJob.objects.count(), CalibrationRecord.objects.count())


def test_demo_stock_and_openings():
    load_demo(members_per_customer=MEMBERS)
    assert PhoneModel.objects.count() == 6
    assert ApplicationPlan.objects.filter(enabled=True).count() == 8
    own_sims = Card.objects.filter(number__startswith=OWN_SIMS)
    assert own_sims.count() == 2 * (MEMBERS + 10)
    assert own_sims.filter(medium="rfid_sim").count() == own_sims.count()
    assert Card.objects.filter(number__startswith="DC", medium="ic_card").count() == 10
    assert own_sims.filter(group_customer__isnull=True).count() == 20
    jobs = ProvisioningJob.objects.order_by("pk")
    assert sorted(jobs.values_list("status", flat=True)) == (
        ["delivered"] * 8 + ["failed"] * 2 + ["queued"] * 2)
    failed = jobs.filter(status="failed").first()
    assert (failed.attempts, failed.application.status) == (5, "failed")
    delivered = jobs.filter(status="delivered").first()
    assert delivered.application.status == "active"
    assert CalibrationRecord.objects.filter(success=True).count() == 6
    assert CalibrationRecord.objects.filter(success=False).count() == 2
    before = counts()
    load_demo(members_per_customer=MEMBERS)
    assert counts() == before
