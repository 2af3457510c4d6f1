"""The audit chain detects edits, deletions and insertions (DESIGN.md invariant 5)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from onecard.audit.actions import verify_audit_log
from onecard.audit.models import AuditChain, AuditRecord


def _verify_command():
    out = StringIO()
    call_command("audit", "verify", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_actions_write_a_verifiable_chain(world):
    report = verify_audit_log()
    assert report.ok, report.problems
    # Every customer's actions landed on its own chain, consecutive from 1.
    seqs = list(AuditRecord.objects.filter(chain=world.customer_a.pk)
                .values_list("chain_seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditRecord.objects.filter(action="member.created",
                                      group_customer_id=world.customer_a.pk).count() == 3
    assert "audit log OK" in _verify_command()


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_edited_record_is_detected(world):
    record = AuditRecord.objects.filter(chain=world.customer_a.pk, chain_seq=2).get()
    _raw("UPDATE audit_auditrecord SET actor_label = %s WHERE id = %s", ["mallory", record.pk])
    report = verify_audit_log()
    assert not report.ok
    assert any(f"record #2 (id {record.pk}) was altered" in p for p in report.problems)
    with pytest.raises(CommandError, match="FAILED"):
        _verify_command()


def test_a_deleted_middle_record_is_detected(world):
    record = AuditRecord.objects.filter(chain=world.customer_a.pk, chain_seq=3).get()
    _raw("DELETE FROM audit_auditrecord WHERE id = %s", [record.pk])
    problems = verify_audit_log().problems
    assert f"chain {world.customer_a.pk}: record #3 is missing (next is #4)" in problems


def test_a_deleted_newest_record_is_detected(world):
    head = AuditChain.objects.get(key=world.customer_b.pk)
    newest = AuditRecord.objects.get(chain=head.key, chain_seq=head.last_seq)
    _raw("DELETE FROM audit_auditrecord WHERE id = %s", [newest.pk])
    problems = verify_audit_log().problems
    assert any("newest records deleted" in p for p in problems)


def test_a_rewritten_record_with_recomputed_hash_breaks_the_next_link(world):
    record = AuditRecord.objects.get(chain=world.customer_a.pk, chain_seq=2)
    record.reason = "forged"
    forged_hash = record.compute_hash()
    _raw("UPDATE audit_auditrecord SET reason = %s, hash = %s WHERE id = %s",
         ["forged", forged_hash, record.pk])
    problems = verify_audit_log().problems
    assert any("record #3 does not follow its predecessor" in p for p in problems)


def test_records_refuse_orm_update_and_delete(world):
    record = AuditRecord.objects.first()
    before = record.hash
    record.reason = "x"
    with pytest.raises(RuntimeError, match="append-only"):
        record.save()
    with pytest.raises(RuntimeError, match="append-only"):
        record.delete()
    assert AuditRecord.objects.get(pk=record.pk).hash == before
    assert verify_audit_log().ok
