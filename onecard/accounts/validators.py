"""Password rules beyond Django's: a password mixes letters with digits or symbols."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """Require at least three of: lower-case, upper-case, digit, symbol."""

    def validate(self, password, user=None):
        classes = [
            re.search(r"[a-z]", password),
            re.search(r"[A-Z]", password),
            re.search(r"[0-9]", password),
            re.search(r"[^A-Za-z0-9]", password),
        ]
        if sum(1 for found in classes if found) < 3:
            raise ValidationError(
                _("The password must mix at least three of: lower-case letters, upper-case "
                  "letters, digits and symbols."),
                code="password_too_simple",
            )

    def get_help_text(self):
        return _("Mix at least three of: lower-case, upper-case, digits, symbols.")
