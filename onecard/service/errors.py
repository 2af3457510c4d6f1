"""Refusals specific to the service desk. Each names the rule that was broken."""

from onecard.core.errors import DomainError


class AlreadyEscalated(DomainError):
    """A ticket goes up to tier 2 once; a second escalation is refused."""

    status_code = 409

    def __init__(self, message):
        super().__init__(message, field="tier", code="already_escalated")


class NotConfirmed(DomainError):
    """Closing a ticket the customer has not confirmed."""

    status_code = 409

    def __init__(self, message):
        super().__init__(message, field="status", code="not_confirmed")


class NotCustomerSide(DomainError):
    """Confirming or rejecting a resolution by someone who is not the customer."""

    status_code = 403

    def __init__(self, message):
        super().__init__(message, field=None, code="not_customer_side")


class WorkOrderStillOpen(DomainError):
    """The ticket has a work order in progress: its engineer reports the result."""

    status_code = 409

    def __init__(self, message):
        super().__init__(message, field="status", code="work_order_open")
