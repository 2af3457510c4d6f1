"""Console: log-in and log-out, the dashboard, the profile, and the helpers every console view uses.

Views stay thin: fetch through a gatekeeper, validate with a form, call ONE action, and on a
refusal show it on the form. A page a role may not use, and an object a person may not see, both
answer 404.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onecard.accounts import actions
from onecard.core.errors import DomainError, NotFound
from onecard.core.gatekeepers import access

from . import tables
from .forms import LanguageForm, LoginForm, PasswordChangeForm, ProfileForm, show_refusal

# --- Helpers shared by the console views of every app -------------------------------------------


def fetch_or_404(queryset, pk, user, *, for_change=False):
    """The object ``pk`` through its gatekeeper; 404 when missing and when not allowed alike."""
    try:
        return access(queryset, pk, user, for_change=for_change)
    except NotFound:
        raise Http404


def for_roles(*roles):
    """Log-in required; a role not listed gets 404, as if the page did not exist."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if roles and request.user.role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def run_action(form, action, *, field_map=None, model=None, **kwargs):
    """Call ONE action. On a refusal, show it on ``form`` and return ``(None, status)``.

    Returns ``(result, None)`` on success. ``NotFound`` from the action (the row vanished or is
    out of reach) becomes 404, like the gatekeepers.
    """
    try:
        return action(**kwargs), None
    except NotFound:
        raise Http404
    except DomainError as refusal:
        show_refusal(form, refusal, field_map=field_map, model=model)
        return None, refusal.status_code


def form_status(request, form, refused_status=None):
    """400 for a POST whose form or action was refused, else 200."""
    if refused_status:
        return refused_status
    return 400 if request.method == "POST" and form.errors else 200


def safe_next(request, value, default):
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


# --- Log-in, log-out ----------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """Log-in through the lockout backend (``authenticate(request, …)`` in the form)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class LogoutView(auth_views.LogoutView):
    """Log-out by POST only (Django refuses GET)."""


# --- Dashboard and profile ----------------------------------------------------------------------


@require_GET
@login_required
def dashboard(request):
    return render(request, "accounts/dashboard.html", tables.dashboard(request.user))


def _profile_page(request, *, profile_form=None, password_form=None, status=200):
    user = request.user
    return render(request, "accounts/profile.html", {
        "profile_form": profile_form or ProfileForm(initial={"display_name": user.display_name}),
        "password_form": password_form or PasswordChangeForm(user),
    }, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    """Show the profile; POST changes the display name."""
    if request.method == "GET":
        return _profile_page(request)
    form = ProfileForm(request.POST)
    refused = None
    if form.is_valid():
        _result, refused = run_action(
            form, actions.update_account, actor=request.user, user=request.user,
            display_name=form.cleaned_data["display_name"].strip(),
        )
        if not refused:
            messages.success(request, _("Your display name was saved."))
            return redirect("console:profile")
    return _profile_page(request, profile_form=form, status=form_status(request, form, refused))


@require_POST
@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST)
    refused = None
    if form.is_valid():
        user, refused = run_action(
            form, actions.change_password, field_map={"password": "new_password1"},
            actor=request.user, user=request.user,
            new_password=form.cleaned_data["new_password1"],
        )
        if not refused:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("console:profile")
    return _profile_page(request, password_form=form,
                         status=form_status(request, form, refused))


@require_POST
def language(request):
    """Switch the console language: saved on the account (if logged in) and in a cookie."""
    form = LanguageForm(request.POST)
    default = reverse("console:dashboard" if request.user.is_authenticated else "console:login")
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered languages."))
        return redirect(default)
    next_url = safe_next(request, form.cleaned_data["next"], default)
    chosen = form.cleaned_data["language"]
    if request.user.is_authenticated:
        try:
            actions.set_language(actor=request.user, language=chosen)
        except DomainError as refusal:
            messages.error(request, refusal.message)
            return redirect(next_url)
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, chosen, max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH, secure=settings.SESSION_COOKIE_SECURE,
        httponly=True, samesite="Lax",
    )
    return response
