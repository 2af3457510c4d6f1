"""Refusals of the ledger. Each names the rule (``code``) and, where there is one, the field."""

from onecard.core.errors import Conflict, DomainError


class LedgerRefused(DomainError):
    """A money request the rules refuse (funds, limits, closed account…). Maps to 409.

    ``code`` is the rule; nothing was written.
    """

    status_code = 409

    def __init__(self, message, *, code, field=None):
        super().__init__(message, field=field, code=code)


class IdempotencyConflict(Conflict):
    """The client id was used before for a request with different content.

    ``code`` is ``exists_with_different_<field>``; the first request stands.
    """

    def __init__(self, message, *, field):
        super().__init__(message, field=field, code=f"exists_with_different_{field}")
