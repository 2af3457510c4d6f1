"""Authentication with lockout: every log-in path (console, API token, session) goes through it."""

from django.contrib.auth.backends import ModelBackend

from .actions import clear_login_failures, locked_until, record_login_failure


class LockoutModelBackend(ModelBackend):
    """Django's model backend, refusing a locked name and counting failures.

    A locked name is refused even with the right password, so guessing cannot continue; the
    answer is the same as for a wrong password, so a lock does not reveal that a name exists.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username")
        if username is None or password is None:
            return None
        if locked_until(username):
            if request is not None:
                request.onecard_login_locked = True
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_login_failure(username=username)
            if request is not None and locked_until(username):
                request.onecard_login_locked = True
        else:
            clear_login_failures(username=username)
        return user
