"""The append-only, hash-chained audit log (DESIGN.md invariant 5).

Every action writes one ``AuditRecord`` per state change inside its own transaction. Records are
kept in chains, one per group customer plus one for the platform (key 0), so that writers for
different tenants do not queue behind one lock. Within a chain each record carries a consecutive
``chain_seq`` and ``hash = sha256(previous hash + canonical record)``; the chain head stores the
last sequence and hash. Editing, inserting or deleting any record, including the newest one,
breaks the
chain and is found by ``onecard audit verify``.
"""

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS_HASH = "0" * 64


def canonical_json(value):
    """Deterministic JSON: sorted keys, no whitespace, dates and decimals as strings."""
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


class AuditChain(models.Model):
    """The head of one chain: the last record's sequence and hash. Locked to append."""

    key = models.BigIntegerField(primary_key=True, help_text="Group customer id; 0 = platform.")
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self):
        return f"chain {self.key} @ {self.last_seq}"


class AuditRecord(models.Model):
    """One audited state change: who did what to which object, with before and after.

    Invariants: never updated or deleted through the ORM; (chain, chain_seq) is unique and
    consecutive from 1; ``hash`` covers every other column and the previous record's hash.
    """

    chain = models.BigIntegerField(db_index=True)
    chain_seq = models.BigIntegerField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    group_customer_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["chain", "chain_seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "chain_seq"], name="audit_record_unique_chain_seq",
                violation_error_message="An audit chain position is written once.",
            ),
        ]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit records are append-only.")

    def payload(self):
        """The fields the hash covers, in a stable shape."""
        return {
            "chain": self.chain,
            "chain_seq": self.chain_seq,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "group_customer_id": self.group_customer_id,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
        }

    def compute_hash(self):
        # Round-trip through JSON so the hash sees what the database will return.
        body = canonical_json(json.loads(canonical_json(self.payload())))
        return hashlib.sha256((self.prev_hash + body).encode()).hexdigest()
