"""Phone models, distance calibration and phone changes."""

import pytest

from onecard.audit.models import AuditRecord
from onecard.cards.actions import calibration as cal
from onecard.cards.models import CalibrationRecord, Card, CardEvent, PhoneModel
from onecard.core.errors import Conflict, DomainError, InvalidInput, NotAllowed

from .test_provisioning import _cards, issue, plans  # noqa: F401 (fixture)


def state():
    return (list(Card.objects.order_by("pk").values_list(
                "pk", "read_threshold", "phone_model_id", "calibration_required")),
            list(PhoneModel.objects.values_list("pk", flat=True)),
            CalibrationRecord.objects.count(), CardEvent.objects.count(),
            AuditRecord.objects.count())


@pytest.fixture
def phones(plans):  # noqa: F811
    w = plans
    w.mate = cal.create_phone_model(actor=w.admin, manufacturer="Huawei", model="Mate 60",
                                    default_threshold=-60, min_signal=-70, max_signal=-50)
    w.iphone = cal.create_phone_model(actor=w.manager, manufacturer="Apple", model="iPhone 15",
                                      default_threshold=-55, min_signal=-65, max_signal=-45)
    w.card = issue(w, _cards(w, 300, 1, w.county_a, w.customer_a)[0], w.members_a[0])
    return w


def calibrate(w, signal, actor=None, **kwargs):
    return cal.record_calibration(**{"actor": actor or w.integrator_engineer, "card": w.card,
                                     "phone_model": w.mate, "measured_signal": signal,
                                     "terminal_code": "CAL-1", **kwargs})


def test_phone_model_refusals(phones):
    w = phones
    before = state()
    with pytest.raises(Conflict):
        cal.create_phone_model(actor=w.admin, manufacturer="huawei", model="MATE 60",
                               default_threshold=-60, min_signal=-70, max_signal=-50)
    with pytest.raises(NotAllowed):
        cal.create_phone_model(actor=w.ent_admin_a, manufacturer="Xiaomi", model="14",
                               default_threshold=-60, min_signal=-70, max_signal=-50)
    for kwargs, field in (({"min_signal": -40}, "max_signal"),
                          ({"default_threshold": -80}, "default_threshold"),
                          ({"max_signal": 5}, "max_signal"), ({"min_signal": "x"}, "min_signal"),
                          ({"model": ""}, "model"), ({"manufacturer": "m" * 65}, "manufacturer")):
        with pytest.raises(InvalidInput) as refused:
            cal.create_phone_model(**{"actor": w.admin, "manufacturer": "Xiaomi", "model": "14",
                                      "default_threshold": -60, "min_signal": -70,
                                      "max_signal": -50, **kwargs})
        assert list(refused.value.errors) == [field]
    assert state() == before


def test_successful_calibration_stores_the_threshold(phones):
    w = phones
    record = calibrate(w, -62)
    w.card.refresh_from_db()
    assert (record.success, record.threshold, record.terminal_code, record.actor_id) == (
        True, -62, "CAL-1", w.integrator_engineer.pk)
    assert (w.card.read_threshold, w.card.phone_model_id, w.card.calibration_required) == (
        -62, w.mate.pk, False)
    event = CardEvent.objects.filter(card=w.card).last()
    assert (event.kind, event.detail["threshold"]) == ("calibrated", -62)


def test_failed_calibration_is_recorded_and_changes_nothing_else(phones):
    w = phones
    calibrate(w, -62)
    before = state()
    record = calibrate(w, -85)
    assert (record.success, record.threshold) == (False, None)
    after = state()
    assert after[0] == before[0] and after[2] == before[2] + 1
    assert after[3] == before[3]  # no card event: the record and the audit row are the trace
    assert AuditRecord.objects.filter(action="card.calibration_failed").count() == 1


def test_calibration_refusals(phones):
    w = phones
    ic = issue(w, _cards(w, 0xC0000001, 1, w.county_a, w.customer_a, "ic_card")[0],
               w.members_a[1])
    before = state()
    with pytest.raises(DomainError) as refused:
        calibrate(w, -60, card=ic)
    assert refused.value.code == "not_rfid_sim"
    with pytest.raises(NotAllowed):
        calibrate(w, -60, actor=w.ent_admin_b)
    with pytest.raises(NotAllowed):
        calibrate(w, -60, actor=w.member_user_a)
    for signal in (-121, 1, "-60", True, None):
        with pytest.raises(InvalidInput):
            calibrate(w, signal)
    with pytest.raises(InvalidInput):
        calibrate(w, -60, phone_model=None)
    assert state() == before


def test_change_phone_requires_recalibration(phones):
    w = phones
    calibrate(w, -60)
    card = cal.change_phone(actor=w.member_user_a, card=w.card, phone_model=w.iphone)
    assert (card.phone_model_id, card.calibration_required, card.read_threshold) == (
        w.iphone.pk, True, -60)
    assert CardEvent.objects.filter(card=w.card).last().kind == "phone_changed"
    before = state()
    with pytest.raises(Conflict):
        cal.change_phone(actor=w.admin, card=w.card, phone_model=w.iphone)
    with pytest.raises(NotAllowed):
        cal.change_phone(actor=w.ent_admin_b, card=w.card, phone_model=w.mate)
    assert state() == before
    calibrate(w, -50, phone_model=w.iphone)
    w.card.refresh_from_db()
    assert (w.card.calibration_required, w.card.read_threshold) == (False, -50)
