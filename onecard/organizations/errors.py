"""Refusals specific to organizations."""

from onecard.core.errors import DomainError


class DepartmentNotEmpty(DomainError):
    status_code = 409

    def __init__(self, message):
        super().__init__(message, field=None, code="department_not_empty")

