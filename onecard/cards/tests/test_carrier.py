"""The carrier adapter: the local register, and a swap that fails half-way leaves nothing
half-bound (the remote side is compensated, our side rolls back)."""

import pytest

from onecard.cards import carrier
from onecard.cards.actions import lifecycle
from onecard.cards.errors import CarrierFailed
from onecard.cards.models import LocalCarrierRegister

from .test_lifecycle import state


class RemoteCarrier(carrier.CarrierAdapter):
    """A stand-in for a BOSS that does not roll back with our transaction."""

    register = {}
    fail_unbind = False

    def bind(self, msisdn, imsi, iccid):
        RemoteCarrier.register[msisdn] = imsi
        return f"boss-{msisdn}"

    def unbind(self, msisdn, imsi):
        if RemoteCarrier.fail_unbind and RemoteCarrier.register.get(msisdn) != imsi:
            raise carrier.CarrierError("BOSS timeout")
        if RemoteCarrier.register.get(msisdn) == imsi:
            del RemoteCarrier.register[msisdn]

    def current_imsi(self, msisdn):
        return RemoteCarrier.register.get(msisdn)


@pytest.fixture
def remote(settings):
    settings.ONECARD_CARRIER_ADAPTER = "onecard.cards.tests.test_carrier.RemoteCarrier"
    RemoteCarrier.register = {}
    RemoteCarrier.fail_unbind = False
    return RemoteCarrier


def test_local_carrier_binds_replaces_and_unbinds(db):
    local = carrier.LocalCarrier()
    assert local.bind("13900000009", "460110000000001", "") == (
        f"local-{LocalCarrierRegister.objects.get().pk}")
    local.bind("13900000009", "460110000000002", "")
    assert local.current_imsi("13900000009") == "460110000000002"
    with pytest.raises(carrier.CarrierError):
        local.bind("13900000008", "460110000000002", "")
    local.unbind("13900000009", "460110000000001")  # not bound: no-op
    assert local.current_imsi("13900000009") == "460110000000002"
    local.unbind("13900000009", "460110000000002")
    assert local.current_imsi("13900000009") is None


def test_swap_with_a_remote_carrier_unbinds_the_members_old_sim(world, cards, remote):
    member = world.members_a[2]
    remote.register[member.phone] = "460009999999999"  # the member's ordinary SIM
    card = lifecycle.issue_card(actor=world.manager, card=cards.stock_a[0], member=member)
    assert remote.register == {member.phone: card.imsi}
    binding = card.bindings.get()
    assert (binding.old_imsi, binding.carrier_reference) == ("460009999999999",
                                                            f"boss-{member.phone}")


def test_a_swap_failing_half_way_leaves_nothing_half_bound(world, cards, remote):
    member = world.members_a[0]
    remote.register[member.phone] = cards.a0.imsi
    remote.fail_unbind = True  # bind of the new SIM succeeds, unbind of the old one fails
    before = state()
    with pytest.raises(CarrierFailed) as refused:
        lifecycle.replace_card(actor=world.manager, old_card=cards.a0,
                               new_card=cards.stock_a[0])
    assert refused.value.code == "carrier_failed" and refused.value.status_code == 409
    assert remote.register == {member.phone: cards.a0.imsi}  # compensated: old SIM bound again
    assert state() == before  # our side rolled back: events, audit, credentials, outbox


def test_carrier_failure_is_a_409_through_the_api(world, cards, remote, api_as):
    remote.register[world.members_a[0].phone] = cards.a0.imsi
    remote.fail_unbind = True
    before = state()
    answer = api_as(world.manager).post(f"/api/v1/cards/{cards.a0.pk}/replace/", {
        "new_card": cards.stock_a[0].pk, "identity_checked": True})
    assert answer.status_code == 409 and answer.json()["code"] == "carrier_failed"
    assert state() == before


def test_a_card_whose_sim_is_bound_elsewhere_is_refused(world, cards):
    from onecard.cards.models import CarrierBinding

    # A SIM that the register shows bound to another card's number cannot be issued again.
    CarrierBinding.objects.filter(card=cards.a1).update(imsi=cards.stock_a[0].imsi)
    before = state()
    with pytest.raises(Exception) as refused:
        lifecycle.issue_card(actor=world.manager, card=cards.stock_a[0],
                             member=world.members_a[2])
    assert (refused.value.code, refused.value.field) == ("card_bound_elsewhere", "card")
    assert state() == before
