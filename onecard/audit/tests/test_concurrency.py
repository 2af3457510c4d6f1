"""Concurrent writers keep one audit chain gap-free (PostgreSQL: real row locks across connections).

On SQLite writers are serialised at BEGIN IMMEDIATE, so this race cannot happen there; on
PostgreSQL the chain head's row lock is what keeps it safe, so this test runs in CI's PostgreSQL
pass.
"""

import threading

import pytest
from django.db import connection

from onecard.audit.actions import verify_audit_log
from onecard.audit.models import AuditRecord
from onecard.people.actions import create_member


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_actions_on_one_customer_keep_the_chain_consecutive(world):
    assert connection.vendor == "postgresql"
    before = AuditRecord.objects.filter(chain=world.customer_a.pk).count()
    errors = []

    def worker(offset):
        try:
            for i in range(10):
                create_member(actor=world.ent_admin_a, group_customer=world.customer_a,
                              name=f"T{offset}-{i}", phone=f"1350{offset:03d}{i:04d}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditRecord.objects.filter(chain=world.customer_a.pk)
                .order_by("chain_seq").values_list("chain_seq", flat=True))
    assert len(seqs) == before + 40
    assert seqs == list(range(1, before + 41))
    assert verify_audit_log().ok
