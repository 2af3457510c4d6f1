"""Errors that domain actions raise. Entry points turn them into 4xx answers.

An action refuses by raising; it never half-applies. Each error names the field at fault (or
``None`` for the whole request) and carries a stable machine-readable ``code``.
"""


class DomainError(Exception):
    """A refusal by the domain: the request was understood and is not allowed. Maps to 400/409."""

    status_code = 400

    def __init__(self, message, *, field=None, code="invalid"):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code

    def as_dict(self):
        if self.field:
            return {self.field: [self.message], "code": self.code}
        return {"detail": self.message, "code": self.code}


class TransitionRefused(DomainError):
    """A lifecycle transition that the explicit table does not allow. Maps to 409."""

    status_code = 409

    def __init__(self, message, *, code="transition_refused"):
        super().__init__(message, field="status", code=code)


class Conflict(DomainError):
    """The request conflicts with existing data (a duplicate, a clashing client id). Maps to 409."""

    status_code = 409


class NotFound(Exception):
    """The object does not exist *or* the person may not see it: the two look the same."""


class InvalidInput(DomainError):
    """Field-level validation failures, as ``{field: [messages]}``. Maps to 400."""

    def __init__(self, errors, *, code="invalid"):
        self.errors = {
            ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in errors.items()
        }
        first = next(iter(self.errors.items()), ("non_field_errors", ["Invalid input."]))
        super().__init__(first[1][0], field=first[0], code=code)

    def as_dict(self):
        return {**self.errors, "code": self.code}


class NotAllowed(DomainError):
    """The actor's role may not perform this action at all. Object access is the gatekeepers'
    job (they answer NotFound); this is for role rules such as "only a customer manager verifies".
    """

    status_code = 403

    def __init__(self, message):
        super().__init__(message, field=None, code="not_allowed")
