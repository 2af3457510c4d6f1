"""Console forms for log-in and the profile, and the form plumbing every console app shares.

Forms only validate input; they never save. A view hands ``cleaned_data`` to one action and, when
the action refuses, ``show_refusal`` puts the refusal on the form with the field named.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.forms.models import construct_instance
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from onecard.core.errors import InvalidInput

NON_FIELD = "non_field_errors"


def _widget_class(widget):
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


class ConsoleFormMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on fields that carry an error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = f"{css} {_widget_class(field.widget)}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ConsoleForm(ConsoleFormMixin, forms.Form):
    pass


class ConsoleModelForm(ConsoleFormMixin, forms.ModelForm):
    """A model form used for labels, widgets and field validators only: views never call
    ``save()``.

    Uniqueness and model constraints are left to the action, so a clash is refused in one place
    (under the action's lock) and comes back naming its field.
    """

    def _post_clean(self):
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields,
                                               self._meta.exclude)
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(exclude=self._get_validation_exclusions(),
                                     validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)


def _label(form, name, model):
    if name in form.fields:
        return form.fields[name].label or capfirst(name.replace("_", " "))
    if model is not None:
        try:
            return capfirst(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            pass
    return capfirst(name.replace("_", " "))


def show_refusal(form, refusal, *, field_map=None, model=None):
    """Put an action's refusal (a ``DomainError``) on ``form``, naming the field at fault.

    ``field_map`` renames action fields to form fields (``{"password": "new_password1"}``). A field
    the form does not show becomes a form-wide error that starts with the field's label.
    """
    if isinstance(refusal, InvalidInput):
        errors = refusal.errors
    else:
        errors = {refusal.field or NON_FIELD: [refusal.message]}
    model = model or getattr(getattr(form, "_meta", None), "model", None)
    for name, messages in errors.items():
        name = (field_map or {}).get(name, name)
        for message in messages:
            if name in form.fields:
                form.add_error(name, message)
            elif name in (NON_FIELD, None):
                form.add_error(None, message)
            else:
                form.add_error(None, f"{_label(form, name, model)}: {message}")


class LoginForm(ConsoleFormMixin, AuthenticationForm):
    """Django's log-in form, telling a locked name apart from a wrong password.

    The lockout backend marks the request when the name is locked; the lock applies to unknown
    names too, so the message does not reveal whether an account exists.
    """

    error_messages = {
        "invalid_login": _("The user name or password is wrong."),
        "inactive": _("This account is inactive."),
        "locked": _("Too many failed log-ins; try again later."),
    }

    def get_invalid_login_error(self):
        if getattr(self.request, "onecard_login_locked", False):
            return forms.ValidationError(self.error_messages["locked"], code="locked")
        return super().get_invalid_login_error()


class ProfileForm(ConsoleForm):
    display_name = forms.CharField(label=_("display name"), max_length=100, required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=2000)


class PasswordChangeForm(ConsoleForm):
    """Asks for the current password; the action checks the new one against the rules."""

    old_password = forms.CharField(
        label=_("Current password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        password = self.cleaned_data["old_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Your current password is wrong."), code="wrong")
        return password

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two new passwords differ."))
        return cleaned
