"""Choice sets and lifecycle tables of the cards app (DESIGN.md §2, docs/cards.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CardMedium(models.TextChoices):
    # A SIM with a 2.4 GHz radio in the member's phone, bound to their number in the BOSS.
    RFID_SIM = "rfid_sim", _("RFID-SIM card")  # RFID-SIM卡
    # A 13.56 MHz card for people without a phone on the operator's network; opened locally.
    IC_CARD = "ic_card", _("IC card")  # IC卡


class ChipType(models.TextChoices):
    M1 = "m1", _("M1 (Mifare Classic)")  # M1卡: identity and doors only, never money
    CPU = "cpu", _("CPU card")  # CPU卡


class CardStatus(models.TextChoices):
    # Received into a branch's inventory (blank, or pre-prepared 备卡), not yet anyone's.
    IN_STOCK = "in_stock", _("In stock")  # 库存
    # Handed to a group customer (for its card swap day), not yet issued to a member.
    ASSIGNED = "assigned", _("Assigned")  # 已分配
    # Issued to a member and in use: terminals accept it (for its active applications).
    ACTIVE = "active", _("Active")  # 正常
    # Reported lost: every terminal refuses it; un-reporting needs an identity check.
    LOST = "lost", _("Reported lost")  # 挂失
    # Paused (one member, or a whole group customer): terminals refuse it until resumed.
    SUSPENDED = "suspended", _("Suspended")  # 暂停
    # Replaced by a new card of the same member: permanently revoked.
    REPLACED = "replaced", _("Replaced")  # 已补换
    # Service ended for this card: applications deleted, purse emptied; permanently revoked.
    DEREGISTERED = "deregistered", _("Deregistered")  # 已注销
    # Destroyed (damaged stock, or a recovered card that will not be reused).
    SCRAPPED = "scrapped", _("Scrapped")  # 报废


# Statuses in which the card belongs to a member and is not yet revoked for good.
LIVE_STATUSES = (CardStatus.ACTIVE, CardStatus.LOST, CardStatus.SUSPENDED)
# Statuses a terminal must refuse (the deny list); ACTIVE cards are the allow list.
DENIED_STATUSES = (CardStatus.LOST, CardStatus.SUSPENDED, CardStatus.REPLACED,
                   CardStatus.DEREGISTERED, CardStatus.SCRAPPED)

CARD_TRANSITIONS = {
    CardStatus.IN_STOCK: {CardStatus.ASSIGNED, CardStatus.ACTIVE, CardStatus.SCRAPPED},
    CardStatus.ASSIGNED: {CardStatus.IN_STOCK, CardStatus.ACTIVE, CardStatus.SCRAPPED},
    CardStatus.ACTIVE: {CardStatus.LOST, CardStatus.SUSPENDED, CardStatus.REPLACED,
                        CardStatus.DEREGISTERED},
    CardStatus.LOST: {CardStatus.ACTIVE, CardStatus.REPLACED, CardStatus.DEREGISTERED},
    CardStatus.SUSPENDED: {CardStatus.ACTIVE, CardStatus.LOST, CardStatus.REPLACED,
                           CardStatus.DEREGISTERED},
    CardStatus.REPLACED: {CardStatus.SCRAPPED},
    CardStatus.DEREGISTERED: {CardStatus.SCRAPPED},
    CardStatus.SCRAPPED: set(),
}


class SuspensionScope(models.TextChoices):
    NONE = "", _("Not suspended")
    MEMBER = "member", _("This member")  # 单个成员暂停
    # Set by suspending the whole group customer; resuming the customer resumes only these.
    CUSTOMER = "customer", _("Whole group customer")  # 集团整体暂停


class ApplicationKind(models.TextChoices):
    IDENTITY = "identity", _("Identity")  # 身份识别
    ACCESS = "access", _("Door access")  # 门禁
    ATTENDANCE = "attendance", _("Attendance")  # 考勤
    PURSE = "purse", _("Purse")  # 消费钱包


class ApplicationStatus(models.TextChoices):
    # Authorised; waiting for delivery to the card (over the air) or for the issuing terminal.
    PENDING = "pending", _("Being opened")  # 开通中
    ACTIVE = "active", _("Active")  # 已开通
    # Delivery gave up (retries exhausted or expired); may be requested again.
    FAILED = "failed", _("Opening failed")  # 开通失败
    # Deleted from the card; a new opening creates a new row.
    DELETED = "deleted", _("Deleted")  # 已删除


APPLICATION_TRANSITIONS = {
    ApplicationStatus.PENDING: {ApplicationStatus.ACTIVE, ApplicationStatus.FAILED,
                                ApplicationStatus.DELETED},
    ApplicationStatus.ACTIVE: {ApplicationStatus.DELETED},
    ApplicationStatus.FAILED: {ApplicationStatus.DELETED},
    ApplicationStatus.DELETED: set(),
}


class OpeningChannel(models.TextChoices):
    OVER_THE_AIR = "ota", _("Over the air")  # 空中开通
    LOCAL = "local", _("At an issuing terminal")  # 本地开通


class ProvisioningStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # 排队
    SENT = "sent", _("Sent, awaiting proof of receipt")  # 已下发
    DELIVERED = "delivered", _("Delivered")  # 已送达
    # Delivery failed this time; retried at ``next_attempt_at`` while attempts remain.
    RETRYING = "retrying", _("Retrying")  # 重试中
    FAILED = "failed", _("Failed")  # 失败
    EXPIRED = "expired", _("Expired")  # 已过期
    CANCELLED = "cancelled", _("Cancelled")  # 已取消


PROVISIONING_TRANSITIONS = {
    ProvisioningStatus.QUEUED: {ProvisioningStatus.SENT, ProvisioningStatus.RETRYING,
                                ProvisioningStatus.FAILED, ProvisioningStatus.EXPIRED,
                                ProvisioningStatus.CANCELLED},
    ProvisioningStatus.SENT: {ProvisioningStatus.DELIVERED, ProvisioningStatus.RETRYING,
                              ProvisioningStatus.FAILED, ProvisioningStatus.EXPIRED,
                              ProvisioningStatus.CANCELLED},
    ProvisioningStatus.RETRYING: {ProvisioningStatus.SENT, ProvisioningStatus.FAILED,
                                  ProvisioningStatus.EXPIRED, ProvisioningStatus.CANCELLED},
    ProvisioningStatus.DELIVERED: set(),
    ProvisioningStatus.FAILED: set(),
    ProvisioningStatus.EXPIRED: set(),
    ProvisioningStatus.CANCELLED: set(),
}


class CardEventKind(models.TextChoices):
    RECEIVED = "received", _("Received into stock")  # 入库
    ASSIGNED = "assigned", _("Assigned to a group customer")  # 分配
    RETURNED = "returned", _("Returned to stock")  # 退库
    ISSUED = "issued", _("Issued to a member")  # 发卡/开卡
    REPORTED_LOST = "reported_lost", _("Reported lost")  # 挂失
    UNREPORTED = "unreported", _("Loss report withdrawn")  # 解挂
    SUSPENDED = "suspended", _("Suspended")  # 暂停
    RESUMED = "resumed", _("Resumed")  # 恢复
    REPLACED = "replaced", _("Replaced")  # 补换卡
    DEREGISTERED = "deregistered", _("Deregistered")  # 注销
    RECOVERED = "recovered", _("Recovered")  # 回收
    SCRAPPED = "scrapped", _("Scrapped")  # 报废
    APPLICATION_REQUESTED = "application_requested", _("Application requested")  # 申请开通应用
    APPLICATION_OPENED = "application_opened", _("Application opened")  # 应用开通
    APPLICATION_FAILED = "application_failed", _("Application opening failed")  # 应用开通失败
    APPLICATION_DELETED = "application_deleted", _("Application deleted")  # 应用删除
    BOUND = "bound", _("Bound to the phone number")  # 号卡绑定
    UNBOUND = "unbound", _("Unbound from the phone number")  # 解除绑定
    CALIBRATED = "calibrated", _("Distance calibrated")  # 距离校准
    PHONE_CHANGED = "phone_changed", _("Phone model changed")  # 更换手机


class BindingStatus(models.TextChoices):
    BOUND = "bound", _("Bound")  # 已绑定
    UNBOUND = "unbound", _("Unbound")  # 已解绑


class CredentialState(models.TextChoices):
    """What a terminal must do with a card, as the credential list tells it."""

    ALLOW = "allow", _("Allow")  # 白名单
    DENY = "deny", _("Deny")  # 黑名单
