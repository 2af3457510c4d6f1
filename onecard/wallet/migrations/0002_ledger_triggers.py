"""The database's own guards of the ledger (docs/adr/0005-wallet-ledger.md).

Both databases: transfers cannot be updated or deleted.

PostgreSQL also checks, when a transaction commits, that its postings balance: statement-level
triggers tally every change of account totals and every inserted transfer in transaction-local
settings (Σ debits − Σ credits, posted and pending, and account debits against the transfers
inserted), and a deferred constraint trigger, queued once per transaction, refuses the commit
unless all tallies are zero.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE TRIGGER wallet_transfer_no_update BEFORE UPDATE ON wallet_transfer
       BEGIN SELECT RAISE(ABORT, 'wallet transfers are immutable'); END""",
    """CREATE TRIGGER wallet_transfer_no_delete BEFORE DELETE ON wallet_transfer
       BEGIN SELECT RAISE(ABORT, 'wallet transfers are immutable'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS wallet_transfer_no_update",
    "DROP TRIGGER IF EXISTS wallet_transfer_no_delete",
]

PG_FORWARD = [
    """CREATE FUNCTION wallet_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'wallet transfers are immutable' USING ERRCODE = 'integrity_constraint_violation';
       END $$""",
    """CREATE TRIGGER wallet_transfer_immutable BEFORE UPDATE OR DELETE ON wallet_transfer
       FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change()""",
    # Tally helper: add ``delta`` to the transaction-local setting ``name``.
    """CREATE FUNCTION wallet_tally(name text, delta bigint) RETURNS void LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM set_config(name, (COALESCE(NULLIF(current_setting(name, true), ''), '0')::bigint
                                   + delta)::text, true);
       END $$""",
    # Statement-level tallies over the transition tables: one call per statement, whatever
    # the batch size.
    """CREATE FUNCTION wallet_tally_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE posted bigint; pending bigint; debits bigint; debits_held bigint;
       BEGIN
         SELECT COALESCE(SUM((n.debits_posted - o.debits_posted)
                             - (n.credits_posted - o.credits_posted)), 0),
                COALESCE(SUM((n.debits_pending - o.debits_pending)
                             - (n.credits_pending - o.credits_pending)), 0),
                COALESCE(SUM(n.debits_posted - o.debits_posted), 0),
                COALESCE(SUM(n.debits_pending - o.debits_pending), 0)
           INTO posted, pending, debits, debits_held
           FROM wallet_new_accounts n JOIN wallet_old_accounts o ON o.id = n.id;
         PERFORM wallet_tally('onecard.posted_balance', posted);
         PERFORM wallet_tally('onecard.pending_balance', pending);
         PERFORM wallet_tally('onecard.posted_vs_transfers', debits);
         PERFORM wallet_tally('onecard.pending_vs_transfers', debits_held);
         RETURN NULL;
       END $$""",
    """CREATE FUNCTION wallet_tally_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE posted bigint; held bigint; released bigint;
       BEGIN
         SELECT COALESCE(SUM(amount) FILTER (WHERE phase IN ('posted', 'post_pending')), 0),
                COALESCE(SUM(amount) FILTER (WHERE phase = 'pending'), 0)
           INTO posted, held FROM wallet_new_transfers;
         SELECT COALESCE(SUM(p.amount), 0) INTO released
           FROM wallet_new_transfers n JOIN wallet_transfer p ON p.id = n.pending_id;
         PERFORM wallet_tally('onecard.posted_vs_transfers', -posted);
         PERFORM wallet_tally('onecard.pending_vs_transfers', released - held);
         RETURN NULL;
       END $$""",
    # True the first time in a transaction: the commit-time check is queued once, not per row.
    """CREATE FUNCTION wallet_first_in_transaction() RETURNS boolean LANGUAGE plpgsql AS $$
       BEGIN
         IF current_setting('onecard.check_queued', true) = '1' THEN
           RETURN false;
         END IF;
         PERFORM set_config('onecard.check_queued', '1', true);
         RETURN true;
       END $$""",
    """CREATE FUNCTION wallet_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF COALESCE(NULLIF(current_setting('onecard.posted_balance', true), ''), '0') <> '0'
            OR COALESCE(NULLIF(current_setting('onecard.pending_balance', true), ''), '0') <> '0'
            OR COALESCE(NULLIF(current_setting('onecard.posted_vs_transfers', true), ''), '0') <> '0'
            OR COALESCE(NULLIF(current_setting('onecard.pending_vs_transfers', true), ''), '0') <> '0'
         THEN
           RAISE EXCEPTION 'wallet postings do not balance in this transaction'
             USING ERRCODE = 'check_violation';
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER wallet_account_tally AFTER UPDATE ON wallet_account
       REFERENCING OLD TABLE AS wallet_old_accounts NEW TABLE AS wallet_new_accounts
       FOR EACH STATEMENT EXECUTE FUNCTION wallet_tally_accounts()""",
    """CREATE TRIGGER wallet_transfer_tally AFTER INSERT ON wallet_transfer
       REFERENCING NEW TABLE AS wallet_new_transfers
       FOR EACH STATEMENT EXECUTE FUNCTION wallet_tally_transfers()""",
    """CREATE CONSTRAINT TRIGGER wallet_account_balanced AFTER UPDATE ON wallet_account
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (wallet_first_in_transaction())
       EXECUTE FUNCTION wallet_check_balanced()""",
    """CREATE CONSTRAINT TRIGGER wallet_transfer_balanced AFTER INSERT ON wallet_transfer
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (wallet_first_in_transaction())
       EXECUTE FUNCTION wallet_check_balanced()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS wallet_transfer_balanced ON wallet_transfer",
    "DROP TRIGGER IF EXISTS wallet_account_balanced ON wallet_account",
    "DROP TRIGGER IF EXISTS wallet_transfer_tally ON wallet_transfer",
    "DROP TRIGGER IF EXISTS wallet_account_tally ON wallet_account",
    "DROP TRIGGER IF EXISTS wallet_transfer_immutable ON wallet_transfer",
    "DROP FUNCTION IF EXISTS wallet_check_balanced()",
    "DROP FUNCTION IF EXISTS wallet_first_in_transaction()",
    "DROP FUNCTION IF EXISTS wallet_tally_transfers()",
    "DROP FUNCTION IF EXISTS wallet_tally_accounts()",
    "DROP FUNCTION IF EXISTS wallet_tally(text, bigint)",
    "DROP FUNCTION IF EXISTS wallet_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
