"""Console forms of the service desk. They validate shape; the actions decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from onecard.accounts.choices import OPERATOR_STAFF, Role
from onecard.accounts.console.forms import ConsoleForm, ConsoleModelForm
from onecard.organizations.models import Branch, GroupCustomer, TerminalVendor
from onecard.people.models import Member

from ..actions import STAFF_CHANNELS, suggested_integrators
from ..choices import TicketChannel, TicketClass, TicketPriority, TicketStatus, WorkOrderOutcome
from ..models import Ticket

YES_NO = [("", _("All")), ("true", _("Yes")), ("false", _("No"))]


class TicketFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.TypedChoiceField(label=_("tier"), required=False, coerce=int, empty_value=None,
                                  choices=[("", _("Both tiers")), ("1", _("Tier 1")),
                                           ("2", _("Tier 2"))])
    branch = forms.ModelChoiceField(label=_("branch"), required=False, queryset=Branch.objects
                                    .none(), empty_label=_("All branches"))
    status = forms.ChoiceField(label=_("status"), required=False,
                               choices=[("", _("All statuses")), ("open", _("Open")),
                                        *TicketStatus.choices])
    ticket_class = forms.ChoiceField(label=_("class"), required=False,
                                     choices=[("", _("All classes")), *TicketClass.choices])
    priority = forms.ChoiceField(label=_("priority"), required=False,
                                 choices=[("", _("All priorities")), *TicketPriority.choices])
    breached = forms.ChoiceField(label=_("SLA breached"), required=False, choices=YES_NO)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(user).filter(
            level="county")
        if user.role not in OPERATOR_STAFF:
            del self.fields["branch"]
            del self.fields["tier"]


class TicketForm(ConsoleModelForm):
    """Intake (受理). Tenant people raise tickets for their own customer (a member for
    themselves); operator staff choose the customer and may record the channel."""

    class Meta:
        model = Ticket
        fields = ["group_customer", "member", "ticket_class", "priority", "channel", "vendor",
                  "title", "description", "contact_name", "contact_phone"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields
        if user.role in (Role.ENTERPRISE_ADMIN, Role.MEMBER):
            del fields["group_customer"], fields["channel"], fields["vendor"]
            if user.role == Role.MEMBER:
                del fields["member"]
            else:
                fields["member"].queryset = Member.objects.visible_to(user)
        else:
            fields["group_customer"].queryset = GroupCustomer.objects.visible_to(user).exclude(
                status="closed")
            fields["member"].queryset = Member.objects.visible_to(user).select_related(
                "group_customer")
            fields["channel"].choices = [c for c in TicketChannel.choices
                                         if c[0] in STAFF_CHANNELS]
            fields["channel"].required = False
            fields["vendor"].queryset = TerminalVendor.objects.visible_to(user).filter(
                is_active=True)
        if "member" in fields:
            fields["member"].required = False

    def _post_clean(self):
        # The action builds the ticket (branch, deadlines): only the fields are checked here.
        pass

    def action_fields(self):
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        if "group_customer" not in data:
            data["group_customer"] = self.user.group_customer
        if not data.get("channel"):
            data.pop("channel", None)
        return data


class NoteForm(ConsoleForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(ConsoleForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ResolveForm(ConsoleForm):
    resolution = forms.CharField(label=_("resolution"), max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 4}))


class ConfirmForm(ConsoleForm):
    satisfaction = forms.TypedChoiceField(
        label=_("satisfaction"), required=False, coerce=int, empty_value=None,
        choices=[("", _("(no score)")), *[(str(n), "★" * n) for n in range(5, 0, -1)]],
    )
    comment = forms.CharField(label=_("customer comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(ConsoleForm):
    """An integrator serving the customer's county, or a vendor: exactly one."""

    integrator = forms.ModelChoiceField(label=_("integrator"), required=False, queryset=None)
    vendor = forms.ModelChoiceField(label=_("terminal vendor"), required=False,
                                    queryset=TerminalVendor.objects.filter(is_active=True))
    instructions = forms.CharField(label=_("instructions"), required=False, max_length=5000,
                                   widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integrator"].queryset = suggested_integrators(ticket)
        self.fields["integrator"].help_text = _("Integrators serving %(county)s.") % {
            "county": ticket.branch.name}
        if ticket.vendor_id and not self.is_bound:
            self.initial.setdefault("vendor", ticket.vendor_id)


class WorkOrderReportForm(ConsoleForm):
    outcome = forms.ChoiceField(label=_("outcome"), choices=WorkOrderOutcome.choices)
    result = forms.CharField(label=_("result"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 4}))


class EmptyForm(ConsoleForm):
    """A step that asks nothing."""


class ReportPeriodForm(forms.Form):
    since = forms.DateField(label=_("Opened from"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Opened until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
