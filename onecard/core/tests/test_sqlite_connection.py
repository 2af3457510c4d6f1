"""The embedded database's connection settings (settings.DATABASES on SQLite): durable writes
(WAL, synchronous=FULL), foreign keys on, a wait for the write lock and a page cache big enough
for a batch's index pages."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite connection settings")
def test_every_sqlite_connection_is_set_up_for_durable_batches():
    with connection.cursor() as cursor:
        values = {}
        # (Not journal_mode: the test database lives in memory, where WAL does not apply.)
        for name in ("synchronous", "foreign_keys", "busy_timeout", "cache_size"):
            cursor.execute(f"PRAGMA {name}")
            values[name] = cursor.fetchone()[0]
    # synchronous 2 is FULL; a negative cache size is in KiB.
    assert values == {"synchronous": 2, "foreign_keys": 1, "busy_timeout": 20000,
                      "cache_size": -32768}
