"""Choice sets and lifecycle table of the terminals app (docs/terminal-protocol.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TerminalKind(models.TextChoices):
    DOOR_CONTROLLER = "door_controller", _("Door controller")  # 门禁控制器
    ATTENDANCE_CLOCK = "attendance_clock", _("Attendance clock")  # 考勤机
    POS = "pos", _("POS")  # 消费机
    TOP_UP = "top_up", _("Top-up machine")  # 充值机
    ISSUING = "issuing", _("Issuing machine")  # 发卡机
    CALIBRATOR = "calibrator", _("Calibrator")  # 校准器


class Frequency(models.TextChoices):
    RFID_SIM = "2.4ghz", _("2.4 GHz RFID-SIM")
    HF = "13.56mhz", _("13.56 MHz")


class TerminalState(models.TextChoices):
    # Registered by an admin; waits for its enrolment code to be exchanged for a secret.
    PENDING = "pending", _("Pending enrolment")  # 待注册
    # Enrolled: every signed request is served.
    ACTIVE = "active", _("Active")  # 在用
    # Switched off by an admin: every request is refused (403) until enabled again.
    DISABLED = "disabled", _("Disabled")  # 停用
    # Taken out of service for good; its device id is never served again.
    RETIRED = "retired", _("Retired")  # 报废


TERMINAL_TRANSITIONS = {
    TerminalState.PENDING: {TerminalState.ACTIVE, TerminalState.RETIRED},
    TerminalState.ACTIVE: {TerminalState.DISABLED, TerminalState.RETIRED},
    TerminalState.DISABLED: {TerminalState.ACTIVE, TerminalState.RETIRED},
    TerminalState.RETIRED: set(),
}


class TerminalEventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    CODE_ISSUED = "code_issued", _("Enrolment code issued")
    ENROLLED = "enrolled", _("Enrolled")
    DISABLED = "disabled", _("Disabled")
    ENABLED = "enabled", _("Enabled")
    RETIRED = "retired", _("Retired")
    SECRET_ROTATED = "secret_rotated", _("Secret rotated")


class AuthFailure(models.TextChoices):
    """Why a signed request was refused; each is counted per terminal for the console."""

    DEVICE_DISABLED = "device_disabled", _("Device disabled")
    STALE_TIMESTAMP = "stale_timestamp", _("Stale timestamp")
    REPLAYED_SEQUENCE = "replayed_sequence", _("Replayed sequence")
    BAD_SIGNATURE = "bad_signature", _("Bad signature")


class AlertKind(models.TextChoices):
    # Offline records were missing between two uploaded sequence numbers.
    SEQUENCE_GAP = "sequence_gap", _("Offline sequence gap")  # 流水号缺失
    # A record's prev_hash did not continue the stored chain.
    BROKEN_CHAIN = "broken_chain", _("Broken offline hash chain")  # 哈希链断裂
    # A record's MAC did not match the device key (forged or corrupted).
    BAD_MAC = "bad_mac", _("Bad offline record MAC")  # MAC校验失败


class OfflineRecordKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    PUNCH = "punch", _("Attendance punch")
    ACCESS = "access", _("Door access")


# Which terminal kinds may make which calls (protocol endpoints and offline record kinds).
CALLS = {
    "purchase": {TerminalKind.POS},
    "top_up": {TerminalKind.TOP_UP},
    "balance": {TerminalKind.POS, TerminalKind.TOP_UP},
    "access": {TerminalKind.DOOR_CONTROLLER},
    "punch": {TerminalKind.ATTENDANCE_CLOCK},
}
OFFLINE_KINDS = {
    OfflineRecordKind.PURCHASE: {TerminalKind.POS},
    OfflineRecordKind.PUNCH: {TerminalKind.ATTENDANCE_CLOCK},
    OfflineRecordKind.ACCESS: {TerminalKind.DOOR_CONTROLLER},
}
