"""Cards: the credential media (RFID-SIM, IC card), their stock, applications, carrier binding,
over-the-air provisioning, distance calibration and the credential list terminals sync.

Invariants (each one tested):
- Status changes only through ``actions`` following ``CARD_TRANSITIONS`` /
  ``APPLICATION_TRANSITIONS`` / ``PROVISIONING_TRANSITIONS``, under a row lock, each writing a
  ``CardEvent`` and an audit record in the same transaction.
- A member has at most one live card (active, lost or suspended): constraint below.
- Card numbers, ICCIDs and IMSIs are unique; an RFID-SIM serial carries a Luhn check digit.
- Every change that affects what a terminal must accept appends a ``CredentialChange`` with the
  next version of its group customer's list, taken under a lock on ``CredentialList``: versions
  of one customer are gap-free and increase in commit order, so "everything after N" is exact.
- A phone number is bound to at most one card in the carrier register.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    ApplicationKind,
    ApplicationStatus,
    BindingStatus,
    CardEventKind,
    CardMedium,
    CardStatus,
    ChipType,
    CredentialState,
    OpeningChannel,
    ProvisioningStatus,
    SuspensionScope,
)
from .querysets import (
    CalibrationRecordQuerySet,
    CardApplicationQuerySet,
    CardEventQuerySet,
    CardQuerySet,
    CarrierBindingQuerySet,
    CredentialChangeQuerySet,
)


class ApplicationPlan(models.Model):
    """Which card applications a group customer has enabled, and how many it may open.

    ``quota`` counts applications of this kind that are pending or active; ``None`` = no limit.
    """

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="application_plans")
    kind = models.CharField(_("application"), max_length=16, choices=ApplicationKind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    quota = models.PositiveIntegerField(_("quota"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group_customer", "kind"], name="cards_one_plan_per_kind",
                violation_error_message=_("This application is already planned."),
            ),
        ]

    def __str__(self):
        return f"{self.group_customer_id}:{self.kind}"


class Card(models.Model):
    """One physical credential: an RFID-SIM card or a 13.56 MHz IC card.

    From stock (``branch``, no customer) through assignment (``group_customer``) to issue
    (``member``). ``number`` is the 19-digit serial (Luhn) of an RFID-SIM card or the hex UID of
    an IC card. ``msisdn`` is the phone number the SIM is bound to (RFID-SIM only).
    """

    medium = models.CharField(_("medium"), max_length=16, choices=CardMedium.choices)
    number = models.CharField(_("card number"), max_length=32, unique=True)
    iccid = models.CharField(_("ICCID"), max_length=20, blank=True, default="")
    imsi = models.CharField(_("IMSI"), max_length=15, blank=True, default="")
    chip_type = models.CharField(_("chip type"), max_length=8, choices=ChipType.choices,
                                 blank=True, default="")
    prepared = models.BooleanField(_("pre-prepared (备卡)"), default=False)
    branch = models.ForeignKey("organizations.Branch", on_delete=models.PROTECT,
                               related_name="cards", verbose_name=_("stock branch"))
    group_customer = models.ForeignKey("organizations.GroupCustomer", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="cards")
    member = models.ForeignKey("people.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="cards")
    msisdn = models.CharField(_("bound phone number"), max_length=11, blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=CardStatus.choices,
                              default=CardStatus.IN_STOCK)
    suspension_scope = models.CharField(max_length=16, choices=SuspensionScope.choices,
                                        blank=True, default=SuspensionScope.NONE)
    replaced_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="replaces")
    phone_model = models.ForeignKey("PhoneModel", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="cards")
    read_threshold = models.IntegerField(_("read threshold (dBm)"), null=True, blank=True)
    calibration_required = models.BooleanField(default=False)
    issued_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["iccid"], condition=~Q(iccid=""),
                                    name="cards_unique_iccid",
                                    violation_error_message=_("Another card has this ICCID.")),
            models.UniqueConstraint(fields=["imsi"], condition=~Q(imsi=""),
                                    name="cards_unique_imsi",
                                    violation_error_message=_("Another card has this IMSI.")),
            models.UniqueConstraint(
                fields=["member"], condition=Q(status__in=["active", "lost", "suspended"]),
                name="cards_one_live_card_per_member",
                violation_error_message=_("This member already has a card."),
            ),
            models.CheckConstraint(
                condition=Q(member__isnull=True) | Q(group_customer__isnull=False),
                name="cards_member_implies_customer",
            ),
        ]
        indexes = [models.Index(fields=["group_customer", "status"]),
                   models.Index(fields=["branch", "status"]),
                   models.Index(fields=["msisdn"])]

    def __str__(self):
        return self.number


class CardApplication(models.Model):
    """One application (identity, access, attendance, purse) on one card, with its own status.

    At most one non-deleted application of a kind per card.
    """

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="applications")
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    kind = models.CharField(_("application"), max_length=16, choices=ApplicationKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.PENDING)
    channel = models.CharField(_("channel"), max_length=8, choices=OpeningChannel.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CardApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["card_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "kind"], condition=~Q(status="deleted"),
                name="cards_one_application_per_kind",
                violation_error_message=_("This card already has this application."),
            ),
        ]
        indexes = [models.Index(fields=["group_customer", "kind", "status"])]

    def __str__(self):
        return f"{self.card_id}:{self.kind}"


class CardEvent(models.Model):
    """One thing that happened to a card (a transition, an application change, a binding, a
    calibration), with who, when and why. Append-only."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32, choices=CardEventKind.choices)
    from_status = models.CharField(max_length=16, choices=CardStatus.choices, blank=True,
                                   default="")
    to_status = models.CharField(max_length=16, choices=CardStatus.choices, blank=True,
                                 default="")
    application = models.ForeignKey(CardApplication, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CardEventQuerySet.as_manager()

    class Meta:
        ordering = ["card_id", "id"]

    def __str__(self):
        return f"{self.card_id}:{self.kind}"


class CredentialList(models.Model):
    """The head of one group customer's credential list: its latest version. Locked (row lock)
    by every change so that versions are handed out in commit order."""

    group_customer = models.OneToOneField("organizations.GroupCustomer", on_delete=models.PROTECT,
                                          related_name="credential_list")
    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.group_customer_id}@{self.version}"


class CredentialChange(models.Model):
    """One entry of a credential list: from ``version`` on, terminals must treat the card as
    ``state`` (allow / deny) for ``applications`` (the active application kinds, for doors).
    Append-only; ``(group_customer, version)`` is unique and gap-free."""

    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    version = models.BigIntegerField()
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="credential_changes")
    card_number = models.CharField(max_length=32)
    state = models.CharField(max_length=8, choices=CredentialState.choices)
    card_status = models.CharField(max_length=16, choices=CardStatus.choices)
    applications = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CredentialChangeQuerySet.as_manager()

    class Meta:
        ordering = ["group_customer_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["group_customer", "version"],
                                    name="cards_unique_credential_version"),
        ]

    def __str__(self):
        return f"{self.group_customer_id}@{self.version}:{self.card_number}={self.state}"


class CarrierBinding(models.Model):
    """The binding of an RFID-SIM card's IMSI to a member's phone number in the carrier's system
    (BOSS), as this platform asked for it through the carrier adapter. ``old_*`` record the SIM
    it replaced and whether that SIM was recovered."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="bindings")
    msisdn = models.CharField(max_length=11)
    imsi = models.CharField(max_length=15)
    status = models.CharField(max_length=8, choices=BindingStatus.choices,
                              default=BindingStatus.BOUND)
    old_imsi = models.CharField(max_length=15, blank=True, default="")
    old_sim_recovered_at = models.DateTimeField(null=True, blank=True)
    carrier_reference = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField(auto_now_add=True)
    unbound_at = models.DateTimeField(null=True, blank=True)

    objects = CarrierBindingQuerySet.as_manager()

    class Meta:
        ordering = ["-bound_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["msisdn"], condition=Q(status="bound"),
                                    name="cards_one_binding_per_number",
                                    violation_error_message=_("This number is already bound.")),
        ]

    def __str__(self):
        return f"{self.msisdn}->{self.imsi}"


class LocalCarrierRegister(models.Model):
    """The local stand-in for the carrier's number-to-SIM register, used by the local carrier
    adapter where no BOSS is connected (docs/cards.md). One row per phone number."""

    msisdn = models.CharField(max_length=11, unique=True)
    imsi = models.CharField(max_length=15, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.msisdn}->{self.imsi}"


class ProvisioningJob(models.Model):
    """One delivery of an application to a card over the operator's channel (OTA), with
    retries and an expiry the admin can watch."""

    application = models.ForeignKey(CardApplication, on_delete=models.PROTECT,
                                    related_name="provisioning_jobs")
    group_customer = models.ForeignKey("organizations.GroupCustomer", on_delete=models.PROTECT,
                                       related_name="+")
    status = models.CharField(max_length=16, choices=ProvisioningStatus.choices,
                              default=ProvisioningStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    channel_reference = models.CharField(max_length=64, blank=True, default="")
    last_error = models.CharField(max_length=255, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"job {self.pk} ({self.status})"


class PhoneModel(models.Model):
    """A handset model and its calibration profile: the read threshold a calibration should
    land near, and the band of measured signals accepted as a good calibration."""

    manufacturer = models.CharField(_("manufacturer"), max_length=64)
    model = models.CharField(_("model"), max_length=64)
    default_threshold = models.IntegerField(_("default threshold (dBm)"))
    min_signal = models.IntegerField(_("weakest accepted signal (dBm)"))
    max_signal = models.IntegerField(_("strongest accepted signal (dBm)"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manufacturer", "model"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "model"],
                                    name="cards_unique_phone_model",
                                    violation_error_message=_("This phone model exists.")),
            models.CheckConstraint(condition=Q(min_signal__lte=models.F("max_signal")),
                                   name="cards_phone_model_signal_band"),
        ]

    def __str__(self):
        return f"{self.manufacturer} {self.model}"


class CalibrationRecord(models.Model):
    """One distance calibration of a card in a phone at a calibrator terminal. Append-only; a
    successful one stores its threshold on the card."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="calibrations")
    phone_model = models.ForeignKey(PhoneModel, on_delete=models.PROTECT, related_name="+")
    measured_signal = models.IntegerField()
    threshold = models.IntegerField(null=True, blank=True)
    success = models.BooleanField()
    terminal_code = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CalibrationRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.card_id}:{self.measured_signal}"
