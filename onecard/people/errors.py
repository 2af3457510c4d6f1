"""Refusals specific to members."""

from django.utils.translation import gettext as _

from onecard.core.errors import Conflict


class DuplicatePhone(Conflict):
    def __init__(self):
        super().__init__(_("Another member of this customer has this phone number."),
                         field="phone", code="duplicate_phone")


class DuplicateEmployeeNumber(Conflict):
    def __init__(self):
        super().__init__(_("Another member of this customer has this employee/student number."),
                         field="employee_number", code="duplicate_employee_number")
