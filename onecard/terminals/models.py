"""Terminals (机具): the registry of devices, their enrolment, authentication state, offline
record chains, alerts and the attendance punches they deliver.

Invariants (each one tested):
- State changes only through ``actions`` following ``TERMINAL_TRANSITIONS``, under a row lock,
  each writing a ``TerminalEvent`` and an audit record in the same transaction.
- ``device_id`` is unique; the secret is stored encrypted (``secrets_box``) and never logged.
- ``last_sequence`` only grows: it is advanced by a conditional UPDATE (``WHERE last_sequence <
  new``), so two requests with the same sequence cannot both pass.
- ``offline_sequence``/``offline_hash`` are the head of the terminal's offline record chain:
  every stored ``OfflineRecord`` was MAC-checked and continued the chain (or opened a recorded
  gap). ``(terminal, sequence)`` is unique: a re-uploaded record is found, never doubled.
- An enrolment code is stored hashed, works once and expires.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from onecard.terminals.protocol.signing import GENESIS_HASH

from .choices import (
    AlertKind,
    OfflineRecordKind,
    TerminalEventKind,
    TerminalKind,
    TerminalState,
)
from .querysets import TerminalChildQuerySet, TerminalQuerySet


class Terminal(models.Model):
    """One device of one group customer: where it stands, what it reads, how it authenticates.

    A POS pays into its own merchant sub-account (``merchant_account``); a top-up machine takes
    cash into its own cash drawer (``cash_drawer``).
    """

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="terminals",
                                       verbose_name=_("group customer"))
    kind = models.CharField(_("kind"), max_length=24, choices=TerminalKind.choices)
    name = models.CharField(_("name"), max_length=100)
    frequencies = models.JSONField(_("frequencies"), default=list, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True, default="")
    merchant_account = models.ForeignKey("wallet.Account", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+",
                                         verbose_name=_("merchant account"))
    cash_drawer = models.ForeignKey("wallet.Account", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("cash drawer"))
    vendor = models.ForeignKey("organizations.TerminalVendor", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="terminals",
                               verbose_name=_("vendor"))
    firmware = models.CharField(_("firmware"), max_length=32, blank=True, default="")
    serial = models.CharField(_("serial number"), max_length=64, blank=True, default="")
    state = models.CharField(_("state"), max_length=16, choices=TerminalState.choices,
                             default=TerminalState.PENDING)
    device_id = models.CharField(_("device id"), max_length=32, unique=True)
    # nonce + ciphertext of the 32-byte secret, hex (see secrets_box and ADR 0008).
    secret_box = models.CharField(max_length=128, blank=True, default="")
    enrolled_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    clock_skew_seconds = models.IntegerField(_("clock skew (s)"), null=True, blank=True)
    reported_state = models.CharField(max_length=32, blank=True, default="")
    last_sequence = models.BigIntegerField(default=0)
    failures_device_disabled = models.PositiveIntegerField(default=0)
    failures_stale_timestamp = models.PositiveIntegerField(default=0)
    failures_replayed_sequence = models.PositiveIntegerField(default=0)
    failures_bad_signature = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    offline_sequence = models.BigIntegerField(default=0)
    offline_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TerminalQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "kind", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="pos") | Q(merchant_account__isnull=True),
                name="terminal_only_pos_has_merchant_account"),
            models.CheckConstraint(
                condition=Q(kind="top_up") | Q(cash_drawer__isnull=True),
                name="terminal_only_top_up_has_cash_drawer"),
        ]
        indexes = [models.Index(fields=["group_customer", "state"])]

    def __str__(self):
        return f"{self.name} ({self.device_id})"

    @property
    def auth_failures(self):
        return (self.failures_device_disabled + self.failures_stale_timestamp
                + self.failures_replayed_sequence + self.failures_bad_signature)


class TerminalEvent(models.Model):
    """One thing that happened to a terminal's registration. Append-only."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=TerminalEventKind.choices)
    from_state = models.CharField(max_length=16, choices=TerminalState.choices, blank=True,
                                  default="")
    to_state = models.CharField(max_length=16, choices=TerminalState.choices, blank=True,
                                default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["terminal_id", "id"]

    def __str__(self):
        return f"{self.terminal_id}:{self.kind}"


class EnrolmentCode(models.Model):
    """A one-time code an admin hands to the installer; the terminal exchanges it for its
    secret. Only the sha256 of the code is stored. Usable while unused, unrevoked, unexpired."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT,
                                 related_name="enrolment_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"code {self.pk} for {self.terminal_id}"


class TerminalAlert(models.Model):
    """Something the console must show about a terminal: a gap in its offline sequence, a
    broken chain or a forged record. Append-only."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="alerts")
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    first_sequence = models.BigIntegerField(null=True, blank=True)
    last_sequence = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TerminalChildQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.terminal_id}:{self.kind}"


class AttendancePunch(models.Model):
    """One card presented at an attendance clock (online or uploaded offline). Stored as
    delivered; the attendance app computes results from them. ``(terminal, client_id)`` is
    unique: a retried punch is found, not doubled."""

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="punches")
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    client_id = models.CharField(max_length=64)
    card = models.ForeignKey("cards.Card", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    card_number = models.CharField(max_length=32)
    member = models.ForeignKey("people.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="punches")
    punched_at = models.DateTimeField()
    offline = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = TerminalChildQuerySet.as_manager()

    class Meta:
        ordering = ["-punched_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "client_id"],
                                    name="terminals_unique_punch_client_id"),
        ]
        indexes = [models.Index(fields=["group_customer", "punched_at"])]

    def __str__(self):
        return f"{self.card_number}@{self.punched_at:%Y-%m-%d %H:%M}"


class OfflineRecord(models.Model):
    """One record a terminal made while offline and uploaded later, MAC-checked and chained.

    ``status`` is what it got (``ok`` or ``rejected:<reason>``) and is answered again when the
    record is re-uploaded. ``review_required``: a purchase by a card that was already denied at
    upload time, posted to the offline-overdraft receivable for someone to look at.
    """

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT,
                                 related_name="offline_records")
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    sequence = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=OfflineRecordKind.choices)
    client_id = models.CharField(max_length=64)
    card_number = models.CharField(max_length=32)
    amount = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    record_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=64)
    review_required = models.BooleanField(default=False)
    card = models.ForeignKey("cards.Card", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    member = models.ForeignKey("people.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    objects = TerminalChildQuerySet.as_manager()

    class Meta:
        ordering = ["terminal_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "sequence"],
                                    name="terminals_unique_offline_sequence"),
        ]
        indexes = [models.Index(fields=["group_customer", "review_required"])]

    def __str__(self):
        return f"{self.terminal_id}#{self.sequence}"
