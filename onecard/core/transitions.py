"""Explicit lifecycle tables (STYLE.md rule 8).

A lifecycle is a ``TextChoices`` plus a dict ``{from_state: {to_state, ...}}``. Actions call
``require_transition`` under a row lock; anything not in the table is refused and nothing changes.
"""

from django.utils.translation import gettext as _

from .errors import TransitionRefused


def require_transition(table, choices, current, target):
    """Refuse unless ``current -> target`` is in ``table``."""
    if target not in table.get(current, frozenset()):
        raise TransitionRefused(
            _("Cannot change status from “%(current)s” to “%(target)s”.")
            % {"current": choices(current).label, "target": choices(target).label}
        )
