"""Hand-written statements on the hot path (terminal requests, purchases).

On PostgreSQL ``hot_cursor()`` binds parameters on the server, so psycopg prepares each fixed
statement once per connection and the server skips parsing and planning it again (ADR 0010).
Django's own cursors bind on the client (its default) and are never prepared; persistent
connections (``ONECARD_CONN_MAX_AGE``) keep the prepared statements between requests.

Only fixed statement texts with ``%s`` placeholders belong here: every distinct text becomes
one prepared statement on every connection.
"""

import operator

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone


def hot_cursor():
    """A cursor for a fixed hot-path statement: server-side binding and prepared statements on
    PostgreSQL (errors still arrive as Django's database errors), Django's cursor elsewhere."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    import psycopg

    return CursorWrapper(psycopg.Cursor(connection.connection), connection)


def insert_rows(model, objects, *, now=None):
    """Insert ``objects`` (unsaved instances of ``model``) in multi-row INSERT statements: what
    ``bulk_create`` does, without the ORM compiling each value (a batch of 500 offline records
    spent half its time there). ``auto_now``/``auto_now_add`` fields get ``now``; primary keys
    are not read back. Only for models whose fields need no conversion beyond datetimes:
    integers, text, booleans, foreign-key ids and datetimes (no JSON, no custom fields)."""
    objects = list(objects)
    if not objects:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = now or timezone.now()
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            for obj in objects:
                setattr(obj, f.attname, now)
    values_of = operator.attrgetter(*(f.attname for f in fields))
    datetimes = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    head = (f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
            f"({', '.join(quote(f.column) for f in fields)}) ")
    rows = []
    for obj in objects:
        row = list(values_of(obj))
        for index in datetimes:
            if row[index] is not None:
                row[index] = adapt(row[index])
        rows.append(row)
    if connection.vendor == "postgresql":
        # One array per column: a short statement, prepared once, whatever the batch size.
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        with hot_cursor() as cursor:
            cursor.execute(f"{head}SELECT * FROM unnest({arrays})",  # noqa: S608
                           [list(column) for column in zip(*rows, strict=True)])
        return
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    chunk = max(1, min(500, (connection.features.max_query_params or 32_000) // len(fields)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            cursor.execute(head + "VALUES " + ", ".join([marks] * len(part)),
                           [value for row in part for value in row])
