"""Gatekeepers: every read and write of a person goes through a scoped queryset (DESIGN.md inv. 4).

Each domain queryset implements ``visible_to(user)`` (what the person may read) and
``changeable_by(user)`` (what they may change). Fetching one object through them gives
``NotFound`` both when it does not exist and when the person may not see or change it, so the two
cases look the same.
"""

from django.core.exceptions import ValidationError

from .errors import NotFound


def access(queryset, pk, user, *, for_change=False):
    """Return the object with ``pk`` if ``user`` may see it (or change it), else raise NotFound."""
    scoped = queryset.changeable_by(user) if for_change else queryset.visible_to(user)
    try:
        return scoped.get(pk=int(pk))
    except (scoped.model.DoesNotExist, ValueError, TypeError, OverflowError, ValidationError):
        raise NotFound(f"{queryset.model.__name__} {pk}")


def is_active_user(user):
    return bool(user is not None and user.is_authenticated and user.is_active)
