"""An online purchase in one statement on PostgreSQL (docs/adr/0010-purchase-in-one-statement.md).

``wallet_purchase`` does on the server what ``wallet.actions.purchase`` does through the posting
engine (``ledger.post``) on SQLite, with the same rules in the same order:

1. lock the member's purse and subsidy purse and the merchant account, in id order, and read the
   member category's limits (``no_purse`` without both purses);
2. the per-transaction limit, then the PIN threshold;
3. ``not_found`` if the merchant account is missing or another customer's;
4. a client id already stored answers ``retry`` (the caller answers it from what is stored),
   whatever the limits and balances say now (but not in place of ``no_purse``/``not_found``);
5. subsidy first (never below zero), the rest from the purse: an account that is not open
   refuses (``account_closed``, in leg order: subsidy, merchant, purse), the purse may not go
   below zero (``insufficient_funds``); a leg that moves nothing is left out;
6. the daily limit counts the whole amount on the purse;
7. one INSERT of the legs and one UPDATE of the changed totals. A concurrent first request with
   the same client id (unique violation) answers ``retry`` and leaves nothing behind.

Refusals write nothing. The database guards (floor check constraint, tally triggers, the
commit-time balance check) apply as to every other posting. SQLite: nothing to do.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION wallet_purchase(
    p_customer bigint, p_member bigint, p_category text, p_merchant bigint, p_amount bigint,
    p_client_id text, p_pin_verified boolean, p_actor bigint, p_terminal_code text,
    p_card_number text, p_created_at timestamptz, p_today date,
    OUT outcome text, OUT account_id bigint, OUT figure bigint, OUT figure2 bigint,
    OUT subsidy_id bigint, OUT purse_id bigint, OUT subsidy_leg_id bigint,
    OUT subsidy_taken bigint, OUT purse_leg_id bigint, OUT purse_taken bigint,
    OUT subsidy_available bigint, OUT purse_available bigint)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  purses int := 0;
  per_transaction bigint; daily bigint; pin bigint;
  m_found boolean := false; m_customer bigint; m_status text;
  s_status text; s_floor boolean; s_available bigint;
  p_status text; p_floor boolean; p_spent_on date; p_spent bigint;
  spent bigint; leg_no int := 0; constraint_name text; known boolean;
BEGIN
  FOR r IN
    SELECT a.id, a.group_customer_id, a.kind, a.member_id, a.status, a.floor_enforced,
           a.credits_posted - a.debits_posted - a.debits_pending AS available,
           a.spent_on, a.spent_that_day,
           pol.per_transaction_limit, pol.daily_limit, pol.pin_threshold
      FROM wallet_account a
      LEFT JOIN wallet_spendingpolicy pol
        ON pol.group_customer_id = a.group_customer_id AND pol.category = p_category
     WHERE (a.member_id = p_member AND a.kind IN ('member_purse', 'subsidy_purse'))
        OR a.id = p_merchant
     ORDER BY a.id
       FOR UPDATE OF a
  LOOP
    IF r.member_id = p_member AND r.kind = 'subsidy_purse' THEN
      purses := purses + 1; subsidy_id := r.id; s_status := r.status;
      s_floor := r.floor_enforced; s_available := r.available;
      per_transaction := r.per_transaction_limit; daily := r.daily_limit;
      pin := r.pin_threshold;
    ELSIF r.member_id = p_member AND r.kind = 'member_purse' THEN
      purses := purses + 1; purse_id := r.id; p_status := r.status;
      p_floor := r.floor_enforced; purse_available := r.available;
      p_spent_on := r.spent_on; p_spent := r.spent_that_day;
      per_transaction := r.per_transaction_limit; daily := r.daily_limit;
      pin := r.pin_threshold;
    END IF;
    IF r.id = p_merchant THEN
      m_found := true; m_customer := r.group_customer_id; m_status := r.status;
    END IF;
  END LOOP;
  IF purses <> 2 THEN
    outcome := 'no_purse'; RETURN;
  END IF;
  known := EXISTS (SELECT 1 FROM wallet_transfer
                    WHERE group_customer_id = p_customer AND client_id = p_client_id);
  IF per_transaction IS NOT NULL AND p_amount > per_transaction THEN
    outcome := CASE WHEN known THEN 'retry' ELSE 'limit_per_transaction' END;
    figure := per_transaction; RETURN;
  END IF;
  IF pin IS NOT NULL AND p_amount >= pin AND NOT p_pin_verified THEN
    outcome := CASE WHEN known THEN 'retry' ELSE 'pin_required' END; figure := pin; RETURN;
  END IF;
  IF NOT m_found OR m_customer <> p_customer THEN
    outcome := 'not_found'; account_id := p_merchant; RETURN;
  END IF;
  IF known THEN
    outcome := 'retry'; RETURN;
  END IF;
  -- Leg 1: the subsidy purse pays what it holds, up to the amount.
  IF s_status <> 'open' THEN
    outcome := 'account_closed'; account_id := subsidy_id; RETURN;
  END IF;
  IF m_status <> 'open' THEN
    outcome := 'account_closed'; account_id := p_merchant; RETURN;
  END IF;
  subsidy_taken := least(p_amount, greatest(s_available, 0));
  -- Leg 2: the purse pays the rest, never going below zero.
  IF p_status <> 'open' THEN
    outcome := 'account_closed'; account_id := purse_id; RETURN;
  END IF;
  purse_taken := p_amount - subsidy_taken;
  IF p_floor AND purse_taken > 0 AND purse_available - purse_taken < 0 THEN
    outcome := 'insufficient_funds'; account_id := purse_id; figure := purse_available;
    RETURN;
  END IF;
  spent := CASE WHEN p_spent_on = p_today THEN p_spent ELSE 0 END;
  IF daily IS NOT NULL AND spent + p_amount > daily THEN
    outcome := 'limit_daily'; figure := daily; figure2 := spent; RETURN;
  END IF;
  BEGIN
    IF subsidy_taken > 0 THEN
      INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,
          credit_account_id, amount, kind, phase, actor_id, terminal_code, card_number,
          offline, memo, created_at)
        VALUES (p_customer, p_client_id, leg_no, subsidy_id, p_merchant, subsidy_taken,
          'purchase', 'posted', p_actor, p_terminal_code, p_card_number, false, '',
          p_created_at)
        RETURNING id INTO subsidy_leg_id;
      leg_no := 1;
    END IF;
    IF purse_taken > 0 THEN
      INSERT INTO wallet_transfer (group_customer_id, client_id, leg, debit_account_id,
          credit_account_id, amount, kind, phase, actor_id, terminal_code, card_number,
          offline, memo, created_at)
        VALUES (p_customer, p_client_id, leg_no, purse_id, p_merchant, purse_taken,
          'purchase', 'posted', p_actor, p_terminal_code, p_card_number, false, '',
          p_created_at)
        RETURNING id INTO purse_leg_id;
    END IF;
  EXCEPTION WHEN unique_violation THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
    IF constraint_name <> 'wallet_transfer_unique_client_id' THEN
      RAISE;
    END IF;
    outcome := 'retry'; subsidy_leg_id := NULL; purse_leg_id := NULL; RETURN;
  END;
  UPDATE wallet_account a
     SET debits_posted = a.debits_posted + v.debit,
         credits_posted = a.credits_posted + v.credit,
         spent_on = CASE WHEN v.spend THEN p_today ELSE a.spent_on END,
         spent_that_day = CASE WHEN v.spend THEN spent + p_amount ELSE a.spent_that_day END
    FROM (VALUES (subsidy_id, subsidy_taken, 0::bigint, false),
                 (purse_id, purse_taken, 0::bigint, true),
                 (p_merchant, 0::bigint, p_amount, false)) AS v(id, debit, credit, spend)
   WHERE a.id = v.id AND (v.debit <> 0 OR v.credit <> 0 OR v.spend);
  subsidy_available := s_available - subsidy_taken;
  purse_available := purse_available - purse_taken;
  outcome := 'ok';
END $$
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS wallet_purchase(bigint, bigint, text, "
                              "bigint, bigint, text, boolean, bigint, text, text, timestamptz, "
                              "date)")


class Migration(migrations.Migration):
    dependencies = [("wallet", "0003_stronger_ledger_guards")]

    operations = [migrations.RunPython(forward, backward)]
