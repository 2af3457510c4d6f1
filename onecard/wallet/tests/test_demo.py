"""The wallet's demo data: real money through the actions, balanced, and idempotent."""

import pytest

from onecard.accounts.models import User
from onecard.demo import load_demo
from onecard.wallet.actions import purses_of
from onecard.wallet.models import Account, Transfer
from onecard.wallet.verify import verify_ledger

pytestmark = pytest.mark.django_db


def test_demo_ledger_balances_and_a_rerun_posts_nothing():
    load_demo(members_per_customer=12)
    report = verify_ledger()
    assert report.ok and report.transfers > 0
    member = User.objects.get(username="demo_member").member
    purse, subsidy = purses_of(member)
    assert purse.balance > 0
    assert Transfer.objects.filter(debit_account__in=[purse, subsidy], kind="purchase").exists()
    accounts, transfers = Account.objects.count(), Transfer.objects.count()
    load_demo(members_per_customer=12)
    assert (Account.objects.count(), Transfer.objects.count()) == (accounts, transfers)
