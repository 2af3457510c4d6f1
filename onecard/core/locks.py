"""Row-lock helpers: lock in primary-key order so two actions never deadlock (STYLE.md rule 7).

On SQLite ``transaction_mode=IMMEDIATE`` already serialises writers at BEGIN and
``select_for_update`` is a no-op; on PostgreSQL these take real row locks.
"""

from .errors import NotFound


def lock_one(queryset, pk):
    """Re-read one row under a row lock, or raise NotFound."""
    try:
        return queryset.select_for_update().get(pk=pk)
    except queryset.model.DoesNotExist:
        raise NotFound(f"{queryset.model.__name__} {pk}")


def lock_many(queryset, pks):
    """Lock several rows of one model in primary-key order and return them by pk."""
    rows = list(queryset.select_for_update().filter(pk__in=sorted(set(pks))).order_by("pk"))
    return {row.pk: row for row in rows}
