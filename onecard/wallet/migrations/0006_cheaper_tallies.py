"""Cheaper tally triggers on PostgreSQL (docs/adr/0005-wallet-ledger.md).

The statement-level tallies of migrations 0002/0003 called a PL/pgSQL helper per tally (eight
nested function calls, each running ``set_config`` as its own statement) on every INSERT into
wallet_transfer and every UPDATE of wallet_account. Here each trigger reads its sums and writes
all eight tallies in ONE statement; what is tallied, and the commit-time check
(``wallet_check_balanced``), do not change. SQLite: nothing to do.
"""

from django.db import migrations


def _add(name, delta):
    """SQL adding ``delta`` (numeric) to the transaction-local tally ``name``."""
    return (f"set_config('{name}', (COALESCE(NULLIF(current_setting('{name}', true), ''), '0')"
            f"::numeric + ({delta}))::text, true)")


ACCOUNTS = f"""
CREATE OR REPLACE FUNCTION wallet_tally_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM {_add('onecard.posted_balance', 's.posted')}, {_add('onecard.pending_balance', 's.pending')},
          {_add('onecard.posted_vs_transfers', 's.debits')},
          {_add('onecard.pending_vs_transfers', 's.debits_held')},
          {_add('onecard.posted_debit_ids', 's.dw')}, {_add('onecard.posted_credit_ids', 's.cw')},
          {_add('onecard.pending_debit_ids', 's.dhw')},
          {_add('onecard.pending_credit_ids', 's.chw')}
    FROM (SELECT COALESCE(SUM((n.debits_posted - o.debits_posted)
                              - (n.credits_posted - o.credits_posted)), 0) AS posted,
                 COALESCE(SUM((n.debits_pending - o.debits_pending)
                              - (n.credits_pending - o.credits_pending)), 0) AS pending,
                 COALESCE(SUM(n.debits_posted - o.debits_posted), 0) AS debits,
                 COALESCE(SUM(n.debits_pending - o.debits_pending), 0) AS debits_held,
                 COALESCE(SUM(n.id::numeric * (n.debits_posted - o.debits_posted)), 0) AS dw,
                 COALESCE(SUM(n.id::numeric * (n.credits_posted - o.credits_posted)), 0) AS cw,
                 COALESCE(SUM(n.id::numeric * (n.debits_pending - o.debits_pending)), 0) AS dhw,
                 COALESCE(SUM(n.id::numeric * (n.credits_pending - o.credits_pending)), 0)
                   AS chw
            FROM wallet_new_accounts n JOIN wallet_old_accounts o ON o.id = n.id) s;
  RETURN NULL;
END $$"""

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
            FROM wallet_new_transfers n JOIN wallet_transfer p ON p.id = n.pending_id) r;
  RETURN NULL;
END $$"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ACCOUNTS)
        schema_editor.execute(TRANSFERS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from importlib import import_module

    earlier = import_module("onecard.wallet.migrations.0003_stronger_ledger_guards")
    for statement in earlier.PG_FORWARD:
        if "FUNCTION wallet_tally_accounts" in statement or (
                "FUNCTION wallet_tally_transfers" in statement):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0005_fewer_transfer_indexes")]

    operations = [migrations.RunPython(forward, backward)]
