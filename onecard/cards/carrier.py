"""The carrier adapter: how the platform asks the operator's system (BOSS) to bind an RFID-SIM
card's IMSI to a member's phone number, and to unbind the SIM it replaces.

The interface is three calls (``CarrierAdapter``). ``LocalCarrier`` implements them over
``LocalCarrierRegister``, a table in the platform's own database, for deployments where no
BOSS is connected: its changes commit or roll back with the action that made them.

A remote adapter cannot roll back with our transaction, so the lifecycle actions call the
adapter LAST, after every check and database write, and ``swap`` undoes what it did when a
later call fails (unbind the new SIM, re-bind the old one) before raising ``CarrierFailed``:
a swap that fails half-way leaves nothing half-bound.

``settings.ONECARD_CARRIER_ADAPTER`` is the dotted path of the adapter class.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from .errors import CarrierFailed
from .models import LocalCarrierRegister

logger = logging.getLogger(__name__)


class CarrierError(Exception):
    """Raised by an adapter when the carrier refuses or cannot be reached."""


class CarrierAdapter:
    """The interface a carrier system is reached through."""

    def bind(self, msisdn, imsi, iccid):
        """Bind ``imsi`` (of the SIM with ``iccid``) to ``msisdn``, replacing whatever SIM the
        number had; return the carrier's reference for the order."""
        raise NotImplementedError

    def unbind(self, msisdn, imsi):
        """Make sure ``imsi`` is no longer bound to ``msisdn`` (no-op if it is not)."""
        raise NotImplementedError

    def current_imsi(self, msisdn):
        """The IMSI bound to ``msisdn`` now, or ``None``."""
        raise NotImplementedError


class LocalCarrier(CarrierAdapter):
    """The number-to-SIM register kept in this database (same transaction as the action)."""

    def bind(self, msisdn, imsi, iccid):
        holder = LocalCarrierRegister.objects.filter(imsi=imsi).exclude(msisdn=msisdn).first()
        if holder is not None:
            raise CarrierError(f"IMSI {imsi} is bound to another number")
        row, _created = LocalCarrierRegister.objects.update_or_create(
            msisdn=msisdn, defaults={"imsi": imsi})
        return f"local-{row.pk}"

    def unbind(self, msisdn, imsi):
        LocalCarrierRegister.objects.filter(msisdn=msisdn, imsi=imsi).delete()

    def current_imsi(self, msisdn):
        row = LocalCarrierRegister.objects.filter(msisdn=msisdn).first()
        return row.imsi if row else None


def get_adapter():
    """An instance of the configured adapter class."""
    path = getattr(settings, "ONECARD_CARRIER_ADAPTER", "onecard.cards.carrier.LocalCarrier")
    return import_string(path)()


@dataclass(frozen=True)
class SwapResult:
    reference: str
    old_imsi: str


def swap(adapter, *, msisdn, new_imsi="", new_iccid="", old_imsi=""):
    """Bind ``new_imsi`` to ``msisdn`` and unbind ``old_imsi`` (either may be empty).

    ``old_imsi`` defaults to what the carrier has for the number now. On any failure, undo what
    was done (best effort, logged) and raise ``CarrierFailed``."""
    done = []
    current = ""
    try:
        current = adapter.current_imsi(msisdn) or ""
        old_imsi = old_imsi or current
        reference = ""
        if new_imsi:
            reference = adapter.bind(msisdn, new_imsi, new_iccid) or ""
            done.append("bind")
        if old_imsi and old_imsi != new_imsi:
            adapter.unbind(msisdn, old_imsi)
            done.append("unbind")
        return SwapResult(reference=str(reference)[:64], old_imsi=old_imsi)
    except Exception as error:  # any adapter failure: undo, then refuse
        logger.warning("carrier swap for %s failed after %s: %s", msisdn, done, error)
        _undo(adapter, msisdn, done, new_imsi=new_imsi, previous=current)
        raise CarrierFailed(str(error)[:120]) from error


def _undo(adapter, msisdn, done, *, new_imsi, previous):
    try:
        if "bind" in done:
            adapter.unbind(msisdn, new_imsi)
            if previous:
                adapter.bind(msisdn, previous, "")
    except Exception:  # compensation failed too: an operator must look (logged loudly)
        logger.exception("carrier compensation for %s failed; check the carrier register",
                         msisdn)
