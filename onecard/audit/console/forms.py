"""Console form of the audit log: filters only (the log is read-only)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action"), required=False, max_length=100)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"

    def filters(self):
        """The valid filters only: a bad value narrows nothing rather than failing the page."""
        self.is_valid()
        return {name: value.strip() for name, value in self.cleaned_data.items()
                if value and value.strip()}
