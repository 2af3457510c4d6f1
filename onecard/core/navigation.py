"""The console's menu, per role. Only pages a role may use appear."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from onecard.accounts.choices import OPERATOR_STAFF, Role

# (url name, label, roles that see it)
MENU = [
    ("console:dashboard", _("Dashboard"), None),
    ("console:group-customer-list", _("Group customers"),
     OPERATOR_STAFF | {Role.INTEGRATOR_ENGINEER}),
    ("console:department-list", _("Departments"), {Role.ENTERPRISE_ADMIN}),
    ("console:member-list", _("Members"), OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:roster-import", _("Roster import"),
     {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.ENTERPRISE_ADMIN}),
    ("console:wallet-purse-list", _("Purses"), OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:wallet-my-purse", _("My purse"), {Role.MEMBER}),
    ("console:wallet-merchant-list", _("Merchants"), OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:wallet-reconciliation", _("Reconciliation"),
     OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:card-list", _("Cards"), OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:card-my-card", _("My card"), {Role.MEMBER}),
    ("console:card-stock-list", _("Card stock"),
     {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER}),
    ("console:card-application-plans", _("Card applications"),
     OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:card-provisioning-list", _("Over-the-air openings"),
     OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN}),
    ("console:card-phone-model-list", _("Phone models"),
     {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER}),
    ("console:terminal-list", _("Terminals"),
     OPERATOR_STAFF | {Role.ENTERPRISE_ADMIN, Role.INTEGRATOR_ENGINEER}),
    ("console:project-list", _("Projects"),
     {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER,
      Role.ENTERPRISE_ADMIN}),
    ("console:project-dashboard", _("Project dashboard"),
     {Role.OPERATOR_ADMIN, Role.CUSTOMER_MANAGER}),
    ("console:service-ticket-list", _("Service desk"), None),
    ("console:service-work-order-list", _("Work orders"),
     {Role.OPERATOR_ADMIN, Role.INTEGRATOR_ENGINEER, Role.VENDOR_ENGINEER}),
    ("console:service-report", _("Service reports"), OPERATOR_STAFF),
    ("console:audit-list", _("Audit log"), {Role.OPERATOR_ADMIN, Role.ENTERPRISE_ADMIN}),
    ("console:profile", _("My account"), None),
]


def menu_for(user):
    items = []
    for url_name, label, roles in MENU:
        if roles is not None and user.role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # an app that has no such page yet
            continue
        items.append({"url": url, "label": label, "name": url_name})
    return items
