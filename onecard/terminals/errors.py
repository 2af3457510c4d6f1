"""Refusals of the terminals app.

``ProtocolError`` is what the terminal protocol answers as ``{"error": code, "detail": text}``
with its HTTP status (docs/terminal-protocol.md lists every code). Registry refusals are the
core DomainErrors (InvalidInput, TransitionRefused…).
"""

from onecard.core.errors import DomainError


class ProtocolError(DomainError):
    """A terminal request refused before (or instead of) any business rule."""

    def __init__(self, code, detail, *, status=400, field=None):
        super().__init__(detail, field=field, code=code)
        self.status_code = status

    def as_protocol(self):
        body = {"error": self.code, "detail": self.message}
        if self.field:
            body["field"] = self.field
        return body


def bad_request(field, detail):
    return ProtocolError("bad_request", f"{field}: {detail}", field=field)
