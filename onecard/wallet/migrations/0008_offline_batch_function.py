"""A clean offline batch in one statement on PostgreSQL (docs/adr/0010-purchase-in-one-statement.md).

``wallet_ingest_offline`` posts a terminal's batch of offline purchases when every record of it
posts: it does on the server what ``wallet.actions.ingest_offline_purchases`` does through the
posting engine (``ledger.post``), with the same rules:

1. lock the purses and subsidy purses of the batch's members and the merchant account;
2. every purse and subsidy purse must exist, belong to the customer and be open, and so must
   the merchant account; no client id may repeat within the batch or be stored already;
3. per member, in batch order: subsidy first (never below zero), the rest from the purse, which
   may go down to minus its overdraft limit; a leg that moves nothing is left out; the daily
   offline limit counts the whole amount on the purse, per business day;
4. one INSERT of the legs and one UPDATE of the changed accounts.

Anything else (a refusal, a retry, a missing purse) answers ``fallback`` having written nothing,
and the caller posts the batch through the engine, which decides it record by record. A client
id stored by a concurrent upload between the look-up and the INSERT answers ``race``, with the
INSERT undone. The per-transaction limit, the amount and client-id checks and the business day
stay in Python (``_offline_refusal``). The database guards apply as to every other posting.
SQLite: nothing to do.
"""

from django.db import migrations

SIGNATURE = ("bigint, bigint, text, timestamptz, text[], bigint[], bigint[], timestamptz[], "
             "text[], date[], bigint[]")

FUNCTION = """
CREATE OR REPLACE FUNCTION wallet_ingest_offline(
    p_customer bigint, p_merchant bigint, p_terminal_code text, p_now timestamptz,
    p_client_ids text[], p_members bigint[], p_amounts bigint[], p_created_at timestamptz[],
    p_card_numbers text[], p_days date[], p_daily_limits bigint[],
    OUT outcome text, OUT client_ids text[], OUT legs smallint[], OUT ids bigint[],
    OUT debits bigint[], OUT amounts bigint[])
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n int := cardinality(p_client_ids);
  m_status text; m_customer bigint;
  member bigint;
  purse bigint; p_available bigint; p_overdraft bigint; p_floor boolean; p_debits bigint;
  p_spent_on date; p_spent bigint;
  subsidy bigint; s_available bigint; s_debits bigint;
  taken_subsidy bigint; taken_purse bigint; spent bigint; total bigint := 0;
  t_pos int[] := '{}'; t_leg smallint[] := '{}'; t_debit bigint[] := '{}';
  t_amount bigint[] := '{}';
  u_id bigint[] := '{}'; u_debit bigint[] := '{}'; u_spent_on date[] := '{}';
  u_spent bigint[] := '{}';
  constraint_name text;
BEGIN
  outcome := 'fallback';
  IF n IS NULL OR n = 0
     OR (SELECT count(DISTINCT c) FROM unnest(p_client_ids) AS c) <> n THEN
    RETURN;
  END IF;
  PERFORM 1 FROM wallet_account
    WHERE (member_id = ANY(p_members) AND kind IN ('member_purse', 'subsidy_purse'))
       OR id = p_merchant
    ORDER BY id FOR UPDATE;
  SELECT status, group_customer_id INTO m_status, m_customer
    FROM wallet_account WHERE id = p_merchant;
  IF m_status IS DISTINCT FROM 'open' OR m_customer IS DISTINCT FROM p_customer THEN
    RETURN;
  END IF;
  -- One probe per client id (as ledger.KNOWN_CLIENT_IDS_SQL): a retry goes to the engine.
  IF EXISTS (SELECT 1 FROM unnest(p_client_ids) AS c(id),
                    LATERAL (SELECT 1 FROM wallet_transfer t
                              WHERE t.group_customer_id = p_customer AND t.client_id = c.id
                              LIMIT 1) AS hit) THEN
    RETURN;
  END IF;
  FOR r IN
    SELECT x.pos::int AS pos, x.member, x.amount, x.day, x.daily,
           p.id AS p_id, p.group_customer_id AS p_customer, p.status AS p_status,
           p.floor_enforced AS p_floor, p.overdraft_limit,
           p.credits_posted - p.debits_posted - p.debits_pending AS p_available,
           p.spent_on, p.spent_that_day,
           s.id AS s_id, s.group_customer_id AS s_customer, s.status AS s_status,
           s.credits_posted - s.debits_posted - s.debits_pending AS s_available
      FROM unnest(p_members, p_amounts, p_days, p_daily_limits)
             WITH ORDINALITY AS x(member, amount, day, daily, pos)
      LEFT JOIN wallet_account p ON p.member_id = x.member AND p.kind = 'member_purse'
      LEFT JOIN wallet_account s ON s.member_id = x.member AND s.kind = 'subsidy_purse'
     ORDER BY x.member, x.pos
  LOOP
    IF r.p_id IS NULL OR r.s_id IS NULL OR r.p_customer <> p_customer
       OR r.s_customer <> p_customer OR r.p_status <> 'open' OR r.s_status <> 'open'
       OR r.amount IS NULL OR r.amount <= 0 THEN
      RETURN;
    END IF;
    IF member IS DISTINCT FROM r.member THEN
      IF member IS NOT NULL THEN  -- the previous member's purses, as they end the batch
        u_id := u_id || purse; u_debit := u_debit || p_debits;
        u_spent_on := u_spent_on || p_spent_on; u_spent := u_spent || p_spent;
        IF s_debits > 0 THEN
          u_id := u_id || subsidy; u_debit := u_debit || s_debits;
          u_spent_on := u_spent_on || NULL::date; u_spent := u_spent || NULL::bigint;
        END IF;
      END IF;
      member := r.member;
      purse := r.p_id; p_available := r.p_available; p_overdraft := r.overdraft_limit;
      p_floor := r.p_floor; p_debits := 0; p_spent_on := r.spent_on; p_spent := r.spent_that_day;
      subsidy := r.s_id; s_available := r.s_available; s_debits := 0;
    END IF;
    taken_subsidy := least(r.amount, greatest(s_available, 0));
    taken_purse := r.amount - taken_subsidy;
    IF p_floor AND taken_purse > 0 AND p_available - taken_purse < -p_overdraft THEN
      RETURN;
    END IF;
    spent := CASE WHEN p_spent_on = r.day THEN p_spent ELSE 0 END;
    IF r.daily IS NOT NULL AND spent + r.amount > r.daily THEN
      RETURN;
    END IF;
    p_spent_on := r.day; p_spent := spent + r.amount;
    IF taken_subsidy > 0 THEN
      t_pos := t_pos || r.pos; t_leg := t_leg || 0::smallint; t_debit := t_debit || subsidy;
      t_amount := t_amount || taken_subsidy;
      s_available := s_available - taken_subsidy; s_debits := s_debits + taken_subsidy;
    END IF;
    IF taken_purse > 0 THEN
      t_pos := t_pos || r.pos;
      t_leg := t_leg || (CASE WHEN taken_subsidy > 0 THEN 1 ELSE 0 END)::smallint;
      t_debit := t_debit || purse; t_amount := t_amount || taken_purse;
      p_available := p_available - taken_purse; p_debits := p_debits + taken_purse;
    END IF;
    total := total + r.amount;
  END LOOP;
  u_id := u_id || purse; u_debit := u_debit || p_debits;
  u_spent_on := u_spent_on || p_spent_on; u_spent := u_spent || p_spent;
  IF s_debits > 0 THEN
    u_id := u_id || subsidy; u_debit := u_debit || s_debits;
    u_spent_on := u_spent_on || NULL::date; u_spent := u_spent || NULL::bigint;
  END IF;
  BEGIN
    WITH ins AS (
      INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,
          credit_account_id, amount, kind, phase, terminal_code, card_number, offline, memo,
          created_at)
      SELECT p_customer, p_client_ids[l.pos], l.leg, l.debit, p_merchant, l.amount,
             'purchase', 'posted', p_terminal_code, p_card_numbers[l.pos], true, '',
             coalesce(p_created_at[l.pos], p_now)
        FROM unnest(t_pos, t_leg, t_debit, t_amount) AS l(pos, leg, debit, amount)
      RETURNING client_id, leg, id, debit_account_id, amount)
    SELECT array_agg(ins.client_id), array_agg(ins.leg), array_agg(ins.id),
           array_agg(ins.debit_account_id), array_agg(ins.amount)
      INTO client_ids, legs, ids, debits, amounts FROM ins;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
    IF constraint_name <> 'wallet_transfer_unique_client_id' THEN
      RAISE;
    END IF;
    outcome := 'race'; client_ids := NULL; legs := NULL; ids := NULL; debits := NULL;
    amounts := NULL;
    RETURN;
  END;
  UPDATE wallet_account a
     SET debits_posted = a.debits_posted + v.debit,
         spent_on = coalesce(v.spent_on, a.spent_on),
         spent_that_day = coalesce(v.spent, a.spent_that_day)
    FROM unnest(u_id, u_debit, u_spent_on, u_spent) AS v(id, debit, spent_on, spent)
   WHERE a.id = v.id;
  UPDATE wallet_account SET credits_posted = credits_posted + total WHERE id = p_merchant;
  outcome := 'ok';
END $$
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS wallet_ingest_offline({SIGNATURE})")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0007_tally_without_scanning")]

    operations = [migrations.RunPython(forward, backward)]
