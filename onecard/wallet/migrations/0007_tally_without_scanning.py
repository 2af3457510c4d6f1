"""The transfer tally no longer reads the whole transfer table (docs/adr/0005-wallet-ledger.md).

``wallet_tally_transfers`` (migration 0006) found the holds that inserted settlements release
with ``wallet_new_transfers JOIN wallet_transfer ON id = pending_id``. The planner knows the
transition table's row count but nothing of its ``pending_id`` column, so for a multi-row
INSERT (an offline batch of 500) it hashed the whole of ``wallet_transfer`` to join it: 41 ms
per batch at 100,000 transfers, growing with the table. Now each settlement's hold is one
primary-key probe (``LATERAL … LIMIT 1``, which the planner cannot turn back into a join), and
rows without a ``pending_id`` make none. What is tallied does not change. SQLite: nothing to
do (its tallies are row triggers).
"""

from importlib import import_module

from django.db import migrations

PREVIOUS = import_module("onecard.wallet.migrations.0006_cheaper_tallies")

# 0006's function with its one join replaced: the rest of what it tallies stays as it was.
JOIN = "FROM wallet_new_transfers n JOIN wallet_transfer p ON p.id = n.pending_id) r;"
PROBE = """FROM wallet_new_transfers n,
                 LATERAL (SELECT h.amount, h.debit_account_id, h.credit_account_id
                            FROM wallet_transfer h WHERE h.id = n.pending_id LIMIT 1) p
           WHERE n.pending_id IS NOT NULL) r;"""
assert PREVIOUS.TRANSFERS.count(JOIN) == 1
TRANSFERS = PREVIOUS.TRANSFERS.replace(JOIN, PROBE)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRANSFERS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS.TRANSFERS)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0006_cheaper_tallies")]

    operations = [migrations.RunPython(forward, backward)]
