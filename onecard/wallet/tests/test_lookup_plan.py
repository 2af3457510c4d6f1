"""The client-id lookup of a batch probes the unique index per id on PostgreSQL, whatever the
statistics say (``ledger.KNOWN_CLIENT_IDS_SQL``). Which ids it finds is tested with every
retried batch (test_offline_flagged, test_ledger_properties, the terminal suite)."""

import pytest
from django.db import connection

from onecard.wallet import ledger


@pytest.mark.postgres
@pytest.mark.django_db
def test_known_client_ids_are_looked_up_by_index_probe():
    with connection.cursor() as cursor:
        # Statistics of an empty table make every customer look tiny: what misled the plain
        # ``client_id = ANY(…)`` query into scanning a customer's transfers. (A sequential scan
        # of the empty test table would be right; it is ruled out to see the plan's shape.)
        cursor.execute("ANALYZE wallet_transfer")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + ledger.KNOWN_CLIENT_IDS_SQL, [["a", "b", "c"], 1])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Nested Loop" in plan, plan
    assert "wallet_transfer_unique_client_id" in plan, plan
    assert "client_id = (c.id)" in plan, plan  # in the index condition, not a filter
