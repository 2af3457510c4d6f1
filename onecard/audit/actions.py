"""Writing and verifying the audit log. Every domain action calls ``write_audit``."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .models import AuditChain, AuditRecord

PLATFORM_CHAIN = 0


def _actor_label(actor):
    if actor is None:
        return "system"
    return getattr(actor, "username", None) or str(actor)


def write_audit(*, actor, action, obj=None, object_type=None, object_id=None,
                group_customer_id=None, before=None, after=None, reason=""):
    """Append one record to the chain of ``group_customer_id`` (or the platform chain).

    Must run inside the caller's transaction: the record commits or rolls back with the change.
    The chain head is locked, so appends to one chain are serialised and the sequence has no gaps.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write_audit must run inside the action's transaction.")
    chain_key = group_customer_id or PLATFORM_CHAIN
    head, _ = AuditChain.objects.get_or_create(key=chain_key)
    head = AuditChain.objects.select_for_update().get(key=chain_key)
    record = AuditRecord(
        chain=chain_key,
        chain_seq=head.last_seq + 1,
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "pk", "")),
        group_customer_id=group_customer_id,
        reason=reason or "",
        before=before,
        after=after,
        prev_hash=head.last_hash,
    )
    record.hash = record.compute_hash()
    record.save(force_insert=True)
    AuditChain.objects.filter(key=chain_key).update(last_seq=record.chain_seq,
                                                    last_hash=record.hash)
    return record


@dataclass
class VerifyReport:
    """What ``verify_audit_log`` found: records checked and a list of human-readable problems."""

    checked: int = 0
    chains: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def verify_audit_log():
    """Recompute every chain; report edited, inserted, reordered or deleted records."""
    report = VerifyReport()
    heads = {head.key: head for head in AuditChain.objects.all()}
    chain_keys = set(heads) | set(AuditRecord.objects.values_list("chain", flat=True).distinct())
    for key in sorted(chain_keys):
        report.chains += 1
        expected_seq, prev_hash = 1, "0" * 64
        for record in AuditRecord.objects.filter(chain=key).order_by("chain_seq").iterator():
            report.checked += 1
            if record.chain_seq != expected_seq:
                report.problems.append(
                    f"chain {key}: record #{expected_seq} is missing (next is #{record.chain_seq})"
                )
            if record.prev_hash != prev_hash:
                report.problems.append(
                    f"chain {key}: record #{record.chain_seq} does not follow its predecessor"
                )
            if record.compute_hash() != record.hash:
                report.problems.append(
                    f"chain {key}: record #{record.chain_seq} (id {record.pk}) was altered"
                )
            expected_seq, prev_hash = record.chain_seq + 1, record.hash
        head = heads.get(key)
        if head is None:
            report.problems.append(f"chain {key}: head is missing")
        elif head.last_seq != expected_seq - 1 or head.last_hash != prev_hash:
            report.problems.append(
                f"chain {key}: head says #{head.last_seq}, records end at #{expected_seq - 1}"
                " (newest records deleted or head altered)"
            )
    return report
