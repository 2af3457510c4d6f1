"""Stronger guards of the ledger (docs/adr/0005-wallet-ledger.md).

Both databases: an account is created with all totals at zero (money enters only by transfers).

PostgreSQL: the commit-time check also compares *which* accounts moved. Besides the plain sums,
it tallies Σ account id × change on the account side against Σ account id × amount on the
transfer side, separately for debits and credits, posted and pending. Postings made on other
accounts than the transfers name no longer balance.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE TRIGGER wallet_account_opens_empty BEFORE INSERT ON wallet_account
       WHEN NEW.debits_posted <> 0 OR NEW.credits_posted <> 0 OR NEW.debits_pending <> 0
            OR NEW.credits_pending <> 0
       BEGIN SELECT RAISE(ABORT, 'wallet accounts open with zero totals'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS wallet_account_opens_empty"]

PG_FORWARD = [
    """CREATE FUNCTION wallet_account_opens_empty() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.debits_posted <> 0 OR NEW.credits_posted <> 0 OR NEW.debits_pending <> 0
            OR NEW.credits_pending <> 0 THEN
           RAISE EXCEPTION 'wallet accounts open with zero totals' USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER wallet_account_opens_empty BEFORE INSERT ON wallet_account
       FOR EACH ROW EXECUTE FUNCTION wallet_account_opens_empty()""",
    # Numeric tallies: id × amount can pass the range of bigint.
    """CREATE FUNCTION wallet_tally_numeric(name text, delta numeric) RETURNS void
       LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM set_config(name, (COALESCE(NULLIF(current_setting(name, true), ''), '0')::numeric
                                   + delta)::text, true);
       END $$""",
    """CREATE OR REPLACE FUNCTION wallet_tally_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE posted bigint; pending bigint; debits bigint; debits_held bigint;
               dw numeric; cw numeric; dhw numeric; chw numeric;
       BEGIN
         SELECT COALESCE(SUM((n.debits_posted - o.debits_posted)
                             - (n.credits_posted - o.credits_posted)), 0),
                COALESCE(SUM((n.debits_pending - o.debits_pending)
                             - (n.credits_pending - o.credits_pending)), 0),
                COALESCE(SUM(n.debits_posted - o.debits_posted), 0),
                COALESCE(SUM(n.debits_pending - o.debits_pending), 0),
                COALESCE(SUM(n.id::numeric * (n.debits_posted - o.debits_posted)), 0),
                COALESCE(SUM(n.id::numeric * (n.credits_posted - o.credits_posted)), 0),
                COALESCE(SUM(n.id::numeric * (n.debits_pending - o.debits_pending)), 0),
                COALESCE(SUM(n.id::numeric * (n.credits_pending - o.credits_pending)), 0)
           INTO posted, pending, debits, debits_held, dw, cw, dhw, chw
           FROM wallet_new_accounts n JOIN wallet_old_accounts o ON o.id = n.id;
         PERFORM wallet_tally('onecard.posted_balance', posted);
         PERFORM wallet_tally('onecard.pending_balance', pending);
         PERFORM wallet_tally('onecard.posted_vs_transfers', debits);
         PERFORM wallet_tally('onecard.pending_vs_transfers', debits_held);
         PERFORM wallet_tally_numeric('onecard.posted_debit_ids', dw);
         PERFORM wallet_tally_numeric('onecard.posted_credit_ids', cw);
         PERFORM wallet_tally_numeric('onecard.pending_debit_ids', dhw);
         PERFORM wallet_tally_numeric('onecard.pending_credit_ids', chw);
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION wallet_tally_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE posted bigint; held bigint; released bigint;
               dw numeric; cw numeric; dhw numeric; chw numeric; rdw numeric; rcw numeric;
       BEGIN
         SELECT COALESCE(SUM(amount) FILTER (WHERE phase IN ('posted', 'post_pending')), 0),
                COALESCE(SUM(amount) FILTER (WHERE phase = 'pending'), 0),
                COALESCE(SUM(debit_account_id::numeric * amount)
                         FILTER (WHERE phase IN ('posted', 'post_pending')), 0),
                COALESCE(SUM(credit_account_id::numeric * amount)
                         FILTER (WHERE phase IN ('posted', 'post_pending')), 0),
                COALESCE(SUM(debit_account_id::numeric * amount)
                         FILTER (WHERE phase = 'pending'), 0),
                COALESCE(SUM(credit_account_id::numeric * amount)
                         FILTER (WHERE phase = 'pending'), 0)
           INTO posted, held, dw, cw, dhw, chw FROM wallet_new_transfers;
         SELECT COALESCE(SUM(p.amount), 0),
                COALESCE(SUM(p.debit_account_id::numeric * p.amount), 0),
                COALESCE(SUM(p.credit_account_id::numeric * p.amount), 0)
           INTO released, rdw, rcw
           FROM wallet_new_transfers n JOIN wallet_transfer p ON p.id = n.pending_id;
         PERFORM wallet_tally('onecard.posted_vs_transfers', -posted);
         PERFORM wallet_tally('onecard.pending_vs_transfers', released - held);
         PERFORM wallet_tally_numeric('onecard.posted_debit_ids', -dw);
         PERFORM wallet_tally_numeric('onecard.posted_credit_ids', -cw);
         PERFORM wallet_tally_numeric('onecard.pending_debit_ids', rdw - dhw);
         PERFORM wallet_tally_numeric('onecard.pending_credit_ids', rcw - chw);
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION wallet_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE name text;
       BEGIN
         FOREACH name IN ARRAY ARRAY['onecard.posted_balance', 'onecard.pending_balance',
             'onecard.posted_vs_transfers', 'onecard.pending_vs_transfers',
             'onecard.posted_debit_ids', 'onecard.posted_credit_ids',
             'onecard.pending_debit_ids', 'onecard.pending_credit_ids'] LOOP
           IF COALESCE(NULLIF(current_setting(name, true), ''), '0')::numeric <> 0 THEN
             RAISE EXCEPTION USING ERRCODE = 'check_violation',
               MESSAGE = 'wallet postings do not balance in this transaction: ' || name;
           END IF;
         END LOOP;
         RETURN NULL;
       END $$""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS wallet_account_opens_empty ON wallet_account",
    "DROP FUNCTION IF EXISTS wallet_account_opens_empty()",
    # The tally functions go back to 0002's versions by re-running that migration's SQL.
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return run


def _pg_backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)
        return
    from importlib import import_module

    earlier = import_module("onecard.wallet.migrations.0002_ledger_triggers")
    for statement in PG_BACKWARD:
        schema_editor.execute(statement)
    for statement in earlier.PG_FORWARD:
        if "FUNCTION wallet_tally_accounts" in statement or (
                "FUNCTION wallet_tally_transfers" in statement) or (
                "FUNCTION wallet_check_balanced" in statement):
            schema_editor.execute(statement.replace("CREATE FUNCTION",
                                                    "CREATE OR REPLACE FUNCTION", 1))
    schema_editor.execute("DROP FUNCTION IF EXISTS wallet_tally_numeric(text, numeric)")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_ledger_triggers")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
                             _pg_backward),
    ]
