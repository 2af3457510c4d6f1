"""Console forms for the card lifecycle. They validate shape; the actions decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from onecard.accounts.console.forms import ConsoleForm

from ..choices import ApplicationKind, CardStatus


class CardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("", _("All statuses")), *CardStatus.choices])

    def __init__(self, data):
        super().__init__(data)
        self.fields["q"].widget.attrs["class"] = "form-control"
        self.fields["status"].widget.attrs["class"] = "form-select"

    def filters(self):
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class ReasonForm(ConsoleForm):
    reason = forms.CharField(label=_("reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class RequiredReasonForm(ConsoleForm):
    reason = forms.CharField(label=_("reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class IdentityCheckedForm(ReasonForm):
    identity_checked = forms.BooleanField(
        label=_("I have checked the cardholder's identity"), required=False)


class IssueForm(ConsoleForm):
    member = forms.ModelChoiceField(label=_("member"), queryset=None, required=False)
    msisdn = forms.CharField(label=_("or the member's phone number"), required=False,
                             max_length=11)
    applications = forms.MultipleChoiceField(
        label=_("applications to open"), required=False, choices=ApplicationKind.choices,
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["applications"].widget.attrs["class"] = ""


class ReplaceForm(IdentityCheckedForm):
    new_card = forms.ModelChoiceField(label=_("new card"), queryset=None)

    field_order = ["new_card", "identity_checked", "reason"]

    def __init__(self, *args, new_cards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_card"].queryset = new_cards


class DeregisterForm(ReasonForm):
    client_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    recovered = forms.BooleanField(label=_("The card was handed back"), required=False)
