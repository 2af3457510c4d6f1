"""Console forms of the wallet. They validate; the actions decide.

People type amounts in yuan ("12.50"); the forms turn them into integer fen exactly (Decimal,
never float). Money forms carry a hidden client id made when the form is shown, so a double
click or a browser resubmission is an idempotent retry, not a second posting.
"""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from onecard.accounts.console.forms import ConsoleForm
from onecard.core.money import MAX_TRANSFER_FEN

from ..api.serializers import FIRST_DAY, LAST_DAY, MAX_STATEMENT_DAYS
from ..choices import AccountKind
from ..models import Account

YUAN_PATTERN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")


class YuanField(forms.DecimalField):
    """An amount in yuan with at most two decimals, cleaned to integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Amount (¥)"))
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                         max_value=Decimal(MAX_TRANSFER_FEN).scaleb(-2), **kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")

    def to_python(self, value):
        # Plain digits with up to two decimals: no exponents ("1e3"), signs or separators.
        if isinstance(value, str) and value.strip() and not YUAN_PATTERN.match(value.strip()):
            raise forms.ValidationError(_("Enter an amount in yuan, like 12.50."),
                                        code="invalid")
        return super().to_python(value)

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else int(amount.scaleb(2))


def new_client_id():
    return f"console-{uuid.uuid4().hex}"


class MoneyForm(ConsoleForm):
    client_id = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("client_id", new_client_id())
        super().__init__(*args, **kwargs)


class TopUpForm(MoneyForm):
    amount = YuanField()
    source = forms.ModelChoiceField(label=_("Cash drawer or clearing"), queryset=None)

    def __init__(self, *args, group_customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Account.objects.filter(
            group_customer=group_customer,
            kind__in=[AccountKind.CASH_DRAWER, AccountKind.EXTERNAL_CLEARING],
        ).order_by("kind", "code")


class RefundForm(MoneyForm):
    purchase_client_id = forms.CharField(label=_("Purchase client id"), max_length=64)
    amount = YuanField()
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class ReversalForm(MoneyForm):
    amount = YuanField(required=False,
                       help_text=_("Leave empty to reverse the whole transfer."))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class _Days(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"})

    def clean(self, value):
        day = super().clean(value)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(_("Choose a day between 2000 and 2999."))
        return day


class DateRangeForm(ConsoleForm):
    """A statement's days, both inclusive (the report's end is the day after ``end``)."""

    start = _Days(label=_("From"))
    end = _Days(label=_("To"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end must not be before the start."))
            elif (end - start).days >= MAX_STATEMENT_DAYS:
                self.add_error("end", _("A statement covers at most %(days)s days.")
                               % {"days": MAX_STATEMENT_DAYS})
        return cleaned

    def period(self, default_start, default_end):
        """``(start, end exclusive)``: the valid range asked for, else the default."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"] + timedelta(days=1)
        return default_start, default_end + timedelta(days=1)


class DayForm(ConsoleForm):
    day = _Days(label=_("Day"))

    def day_or(self, default):
        if self.is_bound and self.is_valid():
            return self.cleaned_data["day"]
        return default


class CustomerChoiceForm(forms.Form):
    group_customer = forms.ModelChoiceField(label=_("group customer"), queryset=None,
                                            required=False, empty_label=_("Choose a customer"))

    def __init__(self, data, *, customers):
        super().__init__(data)
        self.fields["group_customer"].queryset = customers
        self.fields["group_customer"].widget.attrs["class"] = "form-select"

    def customer(self):
        return self.cleaned_data.get("group_customer") if self.is_valid() else None
