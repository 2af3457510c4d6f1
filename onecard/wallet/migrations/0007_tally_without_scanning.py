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

from django.db import migrations

PREVIOUS = "onecard.wallet.migrations.0006_cheaper_tallies"


def _add(name, delta):
    """SQL adding ``delta`` (numeric) to the transaction-local tally ``name``."""
    return (f"set_config('{name}', (COALESCE(NULLIF(current_setting('{name}', true), ''), '0')"
            f"::numeric + ({delta}))::text, true)")


TRANSFERS = f"""
CREATE OR REPLACE FUNCTION wallet_tally_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM {_add('onecard.posted_vs_transfers', '-t.posted')},
          {_add('onecard.pending_vs_transfers', 'r.released - t.held')},
          {_add('onecard.posted_debit_ids', '-t.dw')}, {_add('onecard.posted_credit_ids', '-t.cw')},
          {_add('onecard.pending_debit_ids', 'r.rdw - t.dhw')},
          {_add('onecard.pending_credit_ids', 'r.rcw - t.chw')}
    FROM (SELECT COALESCE(SUM(amount) FILTER (WHERE phase IN ('posted', 'post_pending')), 0)
                   AS posted,
                 COALESCE(SUM(amount) FILTER (WHERE phase = 'pending'), 0) AS held,
                 COALESCE(SUM(debit_account_id::numeric * amount)
                          FILTER (WHERE phase IN ('posted', 'post_pending')), 0) AS dw,
                 COALESCE(SUM(credit_account_id::numeric * amount)
                          FILTER (WHERE phase IN ('posted', 'post_pending')), 0) AS cw,
                 COALESCE(SUM(debit_account_id::numeric * amount)
                          FILTER (WHERE phase = 'pending'), 0) AS dhw,
                 COALESCE(SUM(credit_account_id::numeric * amount)
                          FILTER (WHERE phase = 'pending'), 0) AS chw
            FROM wallet_new_transfers) t,
         (SELECT COALESCE(SUM(p.amount), 0) AS released,
                 COALESCE(SUM(p.debit_account_id::numeric * p.amount), 0) AS rdw,
                 COALESCE(SUM(p.credit_account_id::numeric * p.amount), 0) AS rcw
            FROM wallet_new_transfers n,
                 LATERAL (SELECT h.amount, h.debit_account_id, h.credit_account_id
                            FROM wallet_transfer h WHERE h.id = n.pending_id LIMIT 1) p
           WHERE n.pending_id IS NOT NULL) r;
  RETURN NULL;
END $$"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRANSFERS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from importlib import import_module

        schema_editor.execute(import_module(PREVIOUS).TRANSFERS)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0006_cheaper_tallies")]

    operations = [migrations.RunPython(forward, backward)]
