"""Refusals specific to cards. Each names the field at fault and carries a stable ``code``."""

from django.utils.translation import gettext as _

from onecard.core.errors import Conflict, DomainError, InvalidInput


class CarrierFailed(Conflict):
    """The carrier's system (BOSS) refused or failed a bind/unbind; nothing was changed here, and
    what the adapter had done was undone."""

    def __init__(self, detail=""):
        message = _("The carrier system did not complete the number binding; nothing was "
                    "changed.")
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message, field=None, code="carrier_failed")


class MemberHasCard(Conflict):
    def __init__(self):
        super().__init__(_("This member already has a card (active, lost or suspended)."),
                         field="member", code="member_has_card")


class MemberNotActive(Conflict):
    def __init__(self, status_label):
        super().__init__(_("A card is issued only to an active member; this member is "
                           "“%(status)s”.") % {"status": status_label},
                         field="member", code="member_not_active")


class CardElsewhere(InvalidInput):
    def __init__(self, field="card"):
        super().__init__({field: [_("This card is not in the stock of the member's group "
                                    "customer or its branch.")]}, code="card_elsewhere")


class CardBoundElsewhere(Conflict):
    def __init__(self, field="card"):
        super().__init__(_("This card's SIM is already bound to another phone number."),
                         field=field, code="card_bound_elsewhere")


class NumberNotInRoster(InvalidInput):
    def __init__(self):
        super().__init__({"msisdn": [_("This number is not in the group customer's roster.")]},
                         code="number_not_in_roster")


class NumberBoundElsewhere(Conflict):
    def __init__(self):
        super().__init__(_("This phone number is already bound to another card."),
                         field="msisdn", code="number_bound_elsewhere")


class IdentityNotChecked(DomainError):
    def __init__(self):
        super().__init__(_("Check the cardholder's identity first (identity document or "
                           "face to face), then confirm it."),
                         field="identity_checked", code="identity_not_checked")


class PurseNotEmpty(Conflict):
    def __init__(self, balance):
        super().__init__(
            _("The purse application cannot be deleted while the member's purse holds "
              "%(amount)s; refund or deregister the purse first.")
            % {"amount": f"{balance / 100:.2f}"},
            field="application", code="purse_not_empty")


class SuspendedWithCustomer(Conflict):
    def __init__(self):
        super().__init__(_("This card is suspended with its whole group customer; resume the "
                           "group customer's cards instead."),
                         field="status", code="suspended_with_customer")


class AlreadyRecovered(Conflict):
    def __init__(self):
        super().__init__(_("This card was already recovered."), field="status",
                         code="already_recovered")
