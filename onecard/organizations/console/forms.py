"""Console forms for group customers and departments. They validate; the actions decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from onecard.accounts.choices import Role
from onecard.accounts.console.forms import ConsoleForm, ConsoleModelForm
from onecard.accounts.models import User
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import Branch, Department, GroupCustomer


class GroupCustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("status"), required=False,
        choices=[("", _("All statuses")), *GroupCustomerStatus.choices],
    )


def _branches_for(user, current=None):
    """Branches the person may put a customer under: all for an operator admin, their own subtree
    for a customer manager (plus the customer's current branch, so an edit can keep it)."""
    branches = Branch.objects.visible_to(user)
    if user.role == Role.CUSTOMER_MANAGER:
        branches = branches.subtree_of(user.branch) if user.branch else branches.none()
        if current is not None:
            branches = branches | Branch.objects.filter(pk=current.branch_id)
    return branches


class GroupCustomerForm(ConsoleModelForm):
    """Create or edit a customer's details. Status has its own forms and actions."""

    class Meta:
        model = GroupCustomer
        fields = ["name", "code", "kind", "branch", "customer_manager", "contact_name",
                  "contact_phone", "address", "business_licence_number", "contract_number"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if editing:
            del self.fields["code"]  # the customer code is its identity: fixed once created
        self.fields["branch"].queryset = _branches_for(user, self.instance if editing else None)
        if user.role == Role.OPERATOR_ADMIN:
            self.fields["customer_manager"].queryset = User.objects.visible_to(user).filter(
                role=Role.CUSTOMER_MANAGER, is_active=True
            )
        else:
            # A customer manager looks after the customers they create; reassigning is the
            # operator admin's call.
            del self.fields["customer_manager"]

    def action_fields(self):
        """The cleaned values, as the action's keyword arguments."""
        return {name: self.cleaned_data[name] for name in self.fields}


class VerifyGroupCustomerForm(ConsoleForm):
    business_licence_number = forms.CharField(label=_("business licence number"), max_length=32)
    contact_name = forms.CharField(label=_("contact name"), max_length=100)
    contact_phone = forms.CharField(label=_("contact phone"), max_length=20)
    contract_number = forms.CharField(label=_("contract number"), max_length=64)
    reason = forms.CharField(label=_("Note"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(ConsoleForm):
    """A status change that must say why."""

    reason = forms.CharField(label=_("Reason"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class DepartmentForm(ConsoleModelForm):
    """Create or edit a department; the parent can only be a department of the same customer,
    and never the department itself or one below it."""

    class Meta:
        model = Department
        fields = ["name", "code", "parent"]

    def __init__(self, *args, group_customer, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Department.objects.filter(group_customer=group_customer)
        if self.instance.pk is not None:
            parents = parents.exclude(path__startswith=self.instance.path)
        self.fields["parent"].queryset = parents.order_by("path")
        self.fields["parent"].required = False
        self.fields["parent"].empty_label = _("(top level)")

    def action_fields(self):
        return {name: self.cleaned_data[name] for name in ("name", "code", "parent")}
