"""The terminals demo: a fleet of every kind for the first demo customer, idempotent."""

import pytest

from onecard.demo import load_demo
from onecard.terminals.models import Terminal


@pytest.mark.django_db
def test_demo_registers_every_kind_and_a_rerun_adds_nothing():
    load_demo(members_per_customer=4)
    kinds = set(Terminal.objects.values_list("kind", flat=True))
    assert kinds == {"pos", "top_up", "door_controller", "attendance_clock", "issuing",
                     "calibrator"}
    assert Terminal.objects.filter(state="active").count() >= 6
    assert Terminal.objects.filter(state="pending").count() == 2
    assert not Terminal.objects.filter(kind="pos", merchant_account__isnull=True).exists()
    count = Terminal.objects.count()
    load_demo(members_per_customer=4)
    assert Terminal.objects.count() == count
