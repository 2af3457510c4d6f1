"""Refusals specific to implementation projects. Each names the rule it enforces."""

from onecard.core.errors import DomainError


class ProjectRuleBroken(DomainError):
    """A project rule refused the request; ``code`` names the rule."""

    status_code = 409

    def __init__(self, message, *, code, field=None):
        super().__init__(message, field=field, code=code)


class NotStageOwner(DomainError):
    """Only the stage's owner (or, for final acceptance, the two parties) may sign."""

    status_code = 403

    def __init__(self, message, *, code="not_stage_owner"):
        super().__init__(message, field=None, code=code)


class AttachmentTooLarge(DomainError):
    status_code = 413

    def __init__(self, message):
        super().__init__(message, field="file", code="attachment_too_large")
