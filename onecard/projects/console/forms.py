"""Console forms for implementation projects. They validate; the actions decide."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from onecard.accounts.choices import Role
from onecard.accounts.console.forms import ConsoleForm
from onecard.accounts.models import User
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import GroupCustomer, Integrator, TerminalVendor
from onecard.projects.choices import ProjectStatus, StageKind
from onecard.projects.models import EquipmentLine


class ProjectFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("", _("All statuses")), *ProjectStatus.choices])
    stage = forms.ChoiceField(label=_("current stage"), required=False,
                              choices=[("", _("All stages")), *StageKind.choices])
    overdue = forms.BooleanField(label=_("Final acceptance overdue"), required=False)


class ProjectCreateForm(ConsoleForm):
    group_customer = forms.ModelChoiceField(label=_("group customer"),
                                            queryset=GroupCustomer.objects.none())
    name = forms.CharField(label=_("name"), max_length=200)
    integrator = forms.ModelChoiceField(label=_("integrator"), required=False,
                                        queryset=Integrator.objects.none())
    swap_total = forms.IntegerField(
        label=_("members to swap"), required=False, min_value=0, max_value=10_000_000,
        help_text=_("Leave empty to use the customer's active member count."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_customer"].queryset = GroupCustomer.objects.changeable_by(
            user).filter(status=GroupCustomerStatus.VERIFIED).order_by("name")
        self.fields["integrator"].queryset = Integrator.objects.visible_to(user).filter(
            is_active=True)


class NoteForm(ConsoleForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(ConsoleForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class OwnerForm(ConsoleForm):
    owner = forms.ModelChoiceField(label=_("owner"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.CUSTOMER_MANAGER, Role.INTEGRATOR_ENGINEER],
        ).order_by("role", "username")


class ChecklistItemForm(ConsoleForm):
    title = forms.CharField(label=_("item"), max_length=200)


class AttachmentForm(ConsoleForm):
    file = forms.FileField(label=_("file"), max_length=255, allow_empty_file=True)
    description = forms.CharField(label=pgettext_lazy("attachment", "description"),
                                  required=False, max_length=200)


class EquipmentForm(ConsoleForm):
    name = forms.CharField(label=_("equipment"), max_length=200)
    model_number = forms.CharField(label=_("model"), required=False, max_length=100)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=1_000_000)
    vendor = forms.ModelChoiceField(label=_("vendor"), required=False,
                                    queryset=TerminalVendor.objects.filter(is_active=True))


class ProcurementOrderForm(ConsoleForm):
    equipment_line = forms.ModelChoiceField(label=_("equipment"),
                                            queryset=EquipmentLine.objects.none())
    vendor = forms.ModelChoiceField(label=_("vendor"),
                                    queryset=TerminalVendor.objects.filter(is_active=True))
    order_number = forms.CharField(label=_("order number"), max_length=64)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=1_000_000)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment_line"].queryset = EquipmentLine.objects.filter(project=project)


class SwapProgressForm(ConsoleForm):
    swapped = forms.IntegerField(label=_("members swapped"), min_value=0, max_value=10_000_000)
    total = forms.IntegerField(label=_("members to swap"), required=False, min_value=0,
                               max_value=10_000_000)
