"""Console forms for members and the roster. They validate; the actions decide."""

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from onecard.accounts.console.forms import ConsoleForm, ConsoleModelForm
from onecard.organizations.models import Department
from onecard.people.choices import MemberCategory, MemberStatus
from onecard.people.models import Member

ROSTER_EXTENSIONS = (".xlsx", ".csv")


class MemberFilterForm(forms.Form):
    """Filters of the member list. Choices are limited to what the person may see, so a value
    from elsewhere is simply invalid and ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    group_customer = forms.ModelChoiceField(label=_("group customer"), queryset=None,
                                            required=False, empty_label=_("All customers"))
    department = forms.ModelChoiceField(label=_("department"), queryset=None, required=False,
                                        empty_label=_("All departments"))
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("", _("All statuses")), *MemberStatus.choices])
    category = forms.ChoiceField(label=_("category"), required=False,
                                 choices=[("", _("All categories")), *MemberCategory.choices])

    def __init__(self, data, *, customers, departments, show_customer):
        super().__init__(data)
        self.fields["group_customer"].queryset = customers
        self.fields["department"].queryset = departments
        if not show_customer:
            del self.fields["group_customer"]
        for field in self.fields.values():
            field.widget.attrs["class"] = ("form-select" if isinstance(field.widget, forms.Select)
                                           else "form-control")

    def filters(self):
        """The valid filters only: a bad value narrows nothing rather than failing the page."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class MemberForm(ConsoleModelForm):
    """Create or edit a member's details. Status has its own actions."""

    class Meta:
        model = Member
        fields = ["name", "phone", "employee_number", "department", "category"]
        labels = {"name": _("full name")}

    def __init__(self, *args, group_customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            group_customer=group_customer
        ).order_by("path")
        self.fields["department"].required = False
        self.fields["department"].empty_label = _("(none)")

    def action_fields(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MemberTransitionForm(ConsoleForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ChooseGroupCustomerForm(ConsoleForm):
    group_customer = forms.ModelChoiceField(label=_("group customer"), queryset=None)

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_customer"].queryset = customers


class RosterImportForm(ConsoleForm):
    """An uploaded roster: a .xlsx or .csv file within the size limit. Its rows are the roster
    importer's business."""

    group_customer = forms.ModelChoiceField(label=_("group customer"), queryset=None)
    file = forms.FileField(
        label=_("Roster file"),
        help_text=_("An .xlsx or .csv file with the columns: name, phone, employee_number, "
                    "department, category."),
    )

    def __init__(self, *args, customers, choose_customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_customer"].queryset = customers
        if not choose_customer:
            del self.fields["group_customer"]
        self.fields["file"].widget.attrs["accept"] = ",".join(ROSTER_EXTENSIONS)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePath(upload.name).suffix.lower() not in ROSTER_EXTENSIONS:
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."), code="file_type")
        if upload.size > settings.ONECARD_ROSTER_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s.")
                % {"limit": filesizeformat(settings.ONECARD_ROSTER_MAX_BYTES)},
                code="too_large",
            )
        return upload
