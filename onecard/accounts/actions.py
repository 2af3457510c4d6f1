"""Actions on accounts: create, change role scope, passwords, language, lockout bookkeeping.

Invariants kept here: passwords pass the configured validators; an enterprise admin creates
accounts only inside their own group customer and only with tenant roles; a name that failed
``ONECARD_LOGIN_MAX_FAILURES`` times within the window is locked for the window.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from onecard.audit.actions import write_audit
from onecard.core.errors import Conflict, InvalidInput, NotAllowed
from onecard.core.locks import lock_one
from onecard.core.validation import clean_or_refuse, snapshot

from .choices import Role
from .models import LoginFailure, User

ACCOUNT_FIELDS = ("username", "role", "display_name", "phone", "email", "language",
                  "branch_id", "group_customer_id", "member_id", "integrator_id", "vendor_id",
                  "is_active")
# What anyone may change on their own account, whatever their role.
SELF_SERVICE_FIELDS = {"display_name", "phone", "email", "language"}


def _public(user):
    return snapshot(user, {f.replace("_id", "") for f in ACCOUNT_FIELDS} | {"username"})


def _check_password(password, user):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": exc.messages}, code="weak_password")


def _check_scope(actor, user):
    """Enterprise admins create tenant accounts of their own customer only."""
    if actor is None or actor.role == Role.OPERATOR_ADMIN:
        return
    if actor.role == Role.ENTERPRISE_ADMIN:
        if user.role not in (Role.ENTERPRISE_ADMIN, Role.MEMBER):
            raise NotAllowed(_("You may create enterprise admin and member accounts only."))
        if user.group_customer_id != actor.group_customer_id:
            raise InvalidInput({"group_customer": [_("Not your group customer.")]})
        if user.member_id and user.member.group_customer_id != actor.group_customer_id:
            raise InvalidInput({"member": [_("Not a member of your group customer.")]})
        return
    raise NotAllowed(_("Your role may not manage accounts."))


@transaction.atomic
def create_account(*, actor, username, password, role, **scope):
    """Create a log-in. ``actor=None`` is the command line (``onecard createadmin``, demo)."""
    user = User(username=(username or "").strip(), role=role, **scope)
    if user.role == Role.MEMBER and user.member_id and not user.group_customer_id:
        user.group_customer_id = user.member.group_customer_id
    _check_scope(actor, user)
    clean_or_refuse(user, exclude=["password"])
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This user name is taken."), field="username", code="duplicate")
    write_audit(actor=actor, action="account.created", obj=user,
                group_customer_id=user.group_customer_id, after=_public(user))
    return user


@transaction.atomic
def update_account(*, actor, user, **changes):
    allowed = {"display_name", "phone", "email", "language", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput({name: [_("Unknown field.")] for name in sorted(unknown)})
    current = lock_one(User.objects.all(), user.pk)
    if actor is None or actor.pk != current.pk or set(changes) - SELF_SERVICE_FIELDS:
        _check_scope(actor, current)
    if changes.get("is_active") is False and actor is not None and current.pk == actor.pk:
        raise InvalidInput({"is_active": [_("You cannot deactivate yourself.")]})
    before = _public(current)
    for name, value in changes.items():
        setattr(current, name, value)
    clean_or_refuse(current, exclude=["password"])
    current.save(update_fields=list(changes) or None)
    write_audit(actor=actor, action="account.updated", obj=current,
                group_customer_id=current.group_customer_id, before=before, after=_public(current))
    return current


@transaction.atomic
def set_language(*, actor, language):
    """A person chooses the console language (zh-Hans or English) for themselves."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput({"language": [_("Unsupported language.")]})
    return update_account(actor=actor, user=actor, language=language)


@transaction.atomic
def change_password(*, actor, user, new_password):
    current = lock_one(User.objects.all(), user.pk)
    if actor is not None and actor.pk != current.pk:
        _check_scope(actor, current)
    _check_password(new_password, current)
    current.set_password(new_password)
    current.save(update_fields=["password"])
    write_audit(actor=actor, action="account.password_changed", obj=current,
                group_customer_id=current.group_customer_id)
    return current


# --- Lockout ----------------------------------------------------------------------------------


def normalise_username(username):
    return (username or "").strip().lower()[:150]


def locked_until(username):
    """When the name's lock ends, or None if it may try to log in now."""
    row = LoginFailure.objects.filter(username=normalise_username(username)).first()
    if row and row.locked_until and row.locked_until > timezone.now():
        return row.locked_until
    return None


@transaction.atomic
def record_login_failure(*, username):
    """Count one failed log-in; lock the name when the count reaches the limit in the window."""
    name = normalise_username(username)
    now = timezone.now()
    window = timedelta(seconds=settings.ONECARD_LOGIN_LOCKOUT_SECONDS)
    row, created = LoginFailure.objects.select_for_update().get_or_create(
        username=name, defaults={"failures": 1, "first_failure_at": now}
    )
    if not created:
        expired = row.first_failure_at + window <= now and not (
            row.locked_until and row.locked_until > now
        )
        if expired:
            row.failures, row.first_failure_at, row.locked_until = 1, now, None
            row.save(update_fields=["failures", "first_failure_at", "locked_until"])
        else:
            LoginFailure.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
            row.refresh_from_db()
    if row.failures >= settings.ONECARD_LOGIN_MAX_FAILURES and not (
        row.locked_until and row.locked_until > now
    ):
        row.locked_until = now + window
        row.save(update_fields=["locked_until"])
        user = User.objects.filter(username__iexact=name).first()
        write_audit(actor=None, action="account.locked", object_type="accounts.user",
                    object_id=user.pk if user else name,
                    group_customer_id=user.group_customer_id if user else None,
                    after={"locked_until": row.locked_until.isoformat(),
                           "failures": row.failures})
    return row


@transaction.atomic
def clear_login_failures(*, username):
    LoginFailure.objects.filter(username=normalise_username(username)).delete()


@transaction.atomic
def unlock_account(*, actor, user):
    """An operator admin lifts a lockout before it expires."""
    if actor is not None and actor.role != Role.OPERATOR_ADMIN:
        _check_scope(actor, user)
    deleted, _count = LoginFailure.objects.filter(
        username=normalise_username(user.username)
    ).delete()
    write_audit(actor=actor, action="account.unlocked", obj=user,
                group_customer_id=user.group_customer_id)
    return bool(deleted)
