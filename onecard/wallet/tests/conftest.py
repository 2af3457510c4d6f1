"""A ledger on top of the ``world`` fixture, built through the wallet actions."""

import pytest

from onecard.wallet import actions
from onecard.wallet.choices import AccountKind


class Books:
    """Handles on the ledger of customer A (and B's, for isolation tests)."""

    def balance(self, account):
        account.refresh_from_db()
        return account.balance


@pytest.fixture
def books(world):
    b = Books()
    b.world = world
    admin_a = world.ent_admin_a
    for tag in ("a", "b"):
        customer = getattr(world, f"customer_{tag}")
        admin = getattr(world, f"ent_admin_{tag}")
        actions.open_ledger(actor=admin, group_customer=customer)
        purses = [actions.open_purses(actor=admin, member=m)
                  for m in getattr(world, f"members_{tag}")]
        setattr(b, f"purses_{tag}", purses)
    b.customer = world.customer_a
    b.alice, b.bob, b.carol = world.members_a
    (b.purse, b.subsidy), (b.bob_purse, b.bob_subsidy), _ = b.purses_a
    b.canteen = actions.create_merchant(actor=admin_a, group_customer=world.customer_a,
                                        name="Canteen", code="canteen")
    b.canteen_main = b.canteen.accounts.get(kind=AccountKind.MERCHANT)
    b.pos1 = actions.open_merchant_terminal_account(actor=admin_a, merchant=b.canteen,
                                                    code="POS-1")
    b.pos2 = actions.open_merchant_terminal_account(actor=admin_a, merchant=b.canteen,
                                                    code="POS-2")
    b.drawer = actions.open_cash_drawer(actor=admin_a, group_customer=world.customer_a,
                                        code="COUNTER-1")
    b.equity = actions.customer_account(world.customer_a, AccountKind.EQUITY)
    b.refunds = actions.customer_account(world.customer_a, AccountKind.REFUNDS_PAYABLE)
    b.fees = actions.customer_account(world.customer_a, AccountKind.FEE_INCOME)
    b.bank = actions.customer_account(world.customer_a, AccountKind.EXTERNAL_CLEARING, "bank")
    b.admin = admin_a
    return b
