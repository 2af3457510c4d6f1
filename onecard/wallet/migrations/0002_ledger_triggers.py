"""The database's own guards of the ledger (docs/adr/0005-wallet-ledger.md).

Both databases: transfers cannot be updated or deleted.

PostgreSQL also checks, when a transaction commits, that its postings balance: every change of
account totals is tallied in transaction-local settings (Σ debits − Σ credits, posted and
pending, and account debits against the transfers inserted), and a deferred constraint trigger
refuses the commit unless all tallies are zero.
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
    """CREATE FUNCTION wallet_tally_account() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM wallet_tally('onecard.posted_balance',
             (NEW.debits_posted - OLD.debits_posted) - (NEW.credits_posted - OLD.credits_posted));
         PERFORM wallet_tally('onecard.pending_balance',
             (NEW.debits_pending - OLD.debits_pending) - (NEW.credits_pending - OLD.credits_pending));
         PERFORM wallet_tally('onecard.posted_vs_transfers', NEW.debits_posted - OLD.debits_posted);
         PERFORM wallet_tally('onecard.pending_vs_transfers', NEW.debits_pending - OLD.debits_pending);
         RETURN NULL;
       END $$""",
    """CREATE FUNCTION wallet_tally_transfer() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE held bigint;
       BEGIN
         IF NEW.phase = 'pending' THEN
           PERFORM wallet_tally('onecard.pending_vs_transfers', -NEW.amount);
         ELSE
           IF NEW.phase <> 'void_pending' THEN
             PERFORM wallet_tally('onecard.posted_vs_transfers', -NEW.amount);
           END IF;
           IF NEW.pending_id IS NOT NULL THEN
             SELECT amount INTO held FROM wallet_transfer WHERE id = NEW.pending_id;
             PERFORM wallet_tally('onecard.pending_vs_transfers', held);
           END IF;
         END IF;
         RETURN NULL;
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
    """CREATE TRIGGER wallet_account_tally AFTER UPDATE OF debits_posted, credits_posted,
       debits_pending, credits_pending ON wallet_account
       FOR EACH ROW EXECUTE FUNCTION wallet_tally_account()""",
    """CREATE TRIGGER wallet_transfer_tally AFTER INSERT ON wallet_transfer
       FOR EACH ROW EXECUTE FUNCTION wallet_tally_transfer()""",
    """CREATE CONSTRAINT TRIGGER wallet_account_balanced AFTER UPDATE ON wallet_account
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_check_balanced()""",
    """CREATE CONSTRAINT TRIGGER wallet_transfer_balanced AFTER INSERT ON wallet_transfer
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet_check_balanced()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS wallet_transfer_balanced ON wallet_transfer",
    "DROP TRIGGER IF EXISTS wallet_account_balanced ON wallet_account",
    "DROP TRIGGER IF EXISTS wallet_transfer_tally ON wallet_transfer",
    "DROP TRIGGER IF EXISTS wallet_account_tally ON wallet_account",
    "DROP TRIGGER IF EXISTS wallet_transfer_immutable ON wallet_transfer",
    "DROP FUNCTION IF EXISTS wallet_check_balanced()",
    "DROP FUNCTION IF EXISTS wallet_tally_transfer()",
    "DROP FUNCTION IF EXISTS wallet_tally_account()",
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
