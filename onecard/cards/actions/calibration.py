"""Card actions: calibration (see actions/__init__.py).

Distance calibration of RFID-SIM cards (距离校准): phone bodies attenuate the 2.4 GHz signal
differently, so each card is calibrated in its member's handset at the calibrator terminal, and
the read threshold is stored on the card (reference notes §2.2).

Invariants:
- A ``PhoneModel`` is a calibration profile: ``min_signal <= default_threshold <= max_signal``
  (dBm, between ``MIN_DBM`` and ``MAX_DBM``); manufacturer + model are unique.
- ``record_calibration`` always appends a ``CalibrationRecord``. It succeeds when the measured
  signal is inside the profile's band; then the stored threshold is the measured signal itself
  (the card's own reading at the reference distance, which is what the terminal compares
  against), the card's ``read_threshold`` and ``phone_model`` are set, ``calibration_required``
  cleared and a CALIBRATED event written. A failed calibration changes nothing on the card.
- ``change_phone`` sets the new model and ``calibration_required``: the old threshold no longer
  holds until the card is calibrated again.
- Only RFID-SIM cards are calibrated; IC cards have no radio in a phone.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onecard.accounts.choices import Role
from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, DomainError, InvalidInput, NotAllowed

from ..choices import CardEventKind, CardMedium, CardStatus
from ..models import CalibrationRecord, Card, PhoneModel
from ._shared import lock_card, record

__all__ = ["CALIBRATABLE_STATUSES", "MAX_DBM", "MIN_DBM", "change_phone", "create_phone_model",
           "record_calibration"]

MIN_DBM = -120
MAX_DBM = 0
# Roles that keep the catalogue of phone models.
CATALOGUE_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}
# Roles that calibrate on site (besides the calibrator terminal itself, actor=None).
CALIBRATION_ROLES = {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER,
                     Role.ENTERPRISE_ADMIN}
# A card is calibrated on swap day (assigned, then issued) or later while in use.
CALIBRATABLE_STATUSES = (CardStatus.ASSIGNED, CardStatus.ACTIVE, CardStatus.SUSPENDED)


def _dbm(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_DBM <= value <= MAX_DBM:
        raise InvalidInput({field: [_("Enter a whole number of dBm from %(min)s to %(max)s.")
                                    % {"min": MIN_DBM, "max": MAX_DBM}]})
    return value


def _name(value, field):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({field: [_("This field is required.")]})
    if len(value.strip()) > 64:
        raise InvalidInput({field: [_("At most %(count)s characters.") % {"count": 64}]})
    return value.strip()


def _require_card_changer(actor, card, roles):
    if actor is None:
        return
    if getattr(actor, "role", None) not in roles or not Card.objects.changeable_by(actor).filter(
            pk=card.pk).exists():
        raise NotAllowed(_("Your role may not calibrate this card."))


def _rfid_sim(card):
    if card.medium != CardMedium.RFID_SIM:
        raise DomainError(_("Only RFID-SIM cards are distance calibrated."), field="card",
                          code="not_rfid_sim")


@transaction.atomic
def create_phone_model(*, actor, manufacturer, model, default_threshold, min_signal,
                       max_signal):
    """Add a handset model with its calibration profile (operator admins, customer managers)."""
    manufacturer = _name(manufacturer, "manufacturer")
    model = _name(model, "model")
    default_threshold = _dbm(default_threshold, "default_threshold")
    min_signal = _dbm(min_signal, "min_signal")
    max_signal = _dbm(max_signal, "max_signal")
    if min_signal > max_signal:
        raise InvalidInput({"max_signal": [
            _("The strongest accepted signal must not be below the weakest.")]})
    if not min_signal <= default_threshold <= max_signal:
        raise InvalidInput({"default_threshold": [
            _("The default threshold must lie inside the accepted band.")]})
    if actor is not None and getattr(actor, "role", None) not in CATALOGUE_ROLES:
        raise NotAllowed(_("Only an operator admin or a customer manager adds phone models."))
    if PhoneModel.objects.filter(manufacturer__iexact=manufacturer, model__iexact=model).exists():
        raise Conflict(_("This phone model exists."), field="model", code="duplicate_phone_model")
    try:
        with transaction.atomic():
            phone_model = PhoneModel.objects.create(
                manufacturer=manufacturer, model=model, default_threshold=default_threshold,
                min_signal=min_signal, max_signal=max_signal)
    except IntegrityError:
        raise Conflict(_("This phone model exists."), field="model",
                       code="duplicate_phone_model") from None
    write_audit(actor=actor, action="card.phone_model.created", obj=phone_model,
                after={"manufacturer": manufacturer, "model": model,
                       "default_threshold": default_threshold, "min_signal": min_signal,
                       "max_signal": max_signal})
    return phone_model


@transaction.atomic
def record_calibration(*, actor, card, phone_model, measured_signal, terminal_code=""):
    """Record one calibration of ``card`` in a ``phone_model`` handset; return the record.

    Success (measured signal inside the profile's band) stores the threshold on the card; a
    failure is recorded (``success=False``) and leaves the card as it was. ``actor=None`` is the
    calibrator terminal (``terminal_code`` names it)."""
    measured_signal = _dbm(measured_signal, "measured_signal")
    if not isinstance(terminal_code, str) or len(terminal_code) > 64:
        raise InvalidInput({"terminal_code": [_("At most %(count)s characters.")
                                              % {"count": 64}]})
    if not isinstance(phone_model, PhoneModel):
        raise InvalidInput({"phone_model": [_("Choose a phone model.")]})
    card = lock_card(card)
    _require_card_changer(actor, card, CALIBRATION_ROLES)
    _rfid_sim(card)
    if card.status not in CALIBRATABLE_STATUSES:
        raise DomainError(_("A card that is “%(status)s” cannot be calibrated.")
                          % {"status": CardStatus(card.status).label},
                          field="card", code="card_not_calibratable")
    success = phone_model.min_signal <= measured_signal <= phone_model.max_signal
    calibration = CalibrationRecord.objects.create(
        card=card, phone_model=phone_model, measured_signal=measured_signal,
        threshold=measured_signal if success else None, success=success,
        terminal_code=terminal_code.strip(), actor=actor if getattr(actor, "pk", None) else None)
    detail = {"calibration": calibration.pk, "phone_model": phone_model.pk,
              "measured_signal": measured_signal, "success": success,
              "terminal_code": calibration.terminal_code}
    if not success:
        write_audit(actor=actor, action="card.calibration_failed", obj=card,
                    group_customer_id=card.group_customer_id, after=detail)
        return calibration
    before = {"read_threshold": card.read_threshold, "phone_model": card.phone_model_id,
              "calibration_required": card.calibration_required}
    card.read_threshold = measured_signal
    card.phone_model = phone_model
    card.calibration_required = False
    card.save(update_fields=["read_threshold", "phone_model", "calibration_required",
                             "updated_at"])
    record(card, CardEventKind.CALIBRATED, actor=actor, detail={**detail,
                                                                 "threshold": measured_signal},
           before=before)
    return calibration


@transaction.atomic
def change_phone(*, actor, card, phone_model):
    """The member changed handset: set the new model and require a new calibration.

    Staff who may change the card, or the member for their own card."""
    if not isinstance(phone_model, PhoneModel):
        raise InvalidInput({"phone_model": [_("Choose a phone model.")]})
    card = lock_card(card)
    is_owner = (getattr(actor, "role", None) == Role.MEMBER and actor.member_id
                and actor.member_id == card.member_id)
    if not is_owner:
        _require_card_changer(actor, card, CALIBRATION_ROLES)
    _rfid_sim(card)
    if card.status not in CALIBRATABLE_STATUSES:
        raise DomainError(_("A card that is “%(status)s” cannot change phone.")
                          % {"status": CardStatus(card.status).label},
                          field="card", code="card_not_calibratable")
    if card.phone_model_id == phone_model.pk:
        raise Conflict(_("The card is already recorded in this phone model."),
                       field="phone_model", code="same_phone_model")
    before = {"phone_model": card.phone_model_id, "read_threshold": card.read_threshold,
              "calibration_required": card.calibration_required}
    card.phone_model = phone_model
    card.calibration_required = True
    card.save(update_fields=["phone_model", "calibration_required", "updated_at"])
    record(card, CardEventKind.PHONE_CHANGED, actor=actor, before=before,
           detail={"phone_model": phone_model.pk, "previous_phone_model": before["phone_model"]})
    return card
