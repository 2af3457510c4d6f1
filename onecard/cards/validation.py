"""Identifiers of card media, checked before anything is stored.

- RFID-SIM card serial: 19 digits, the last a Luhn check digit over the first 18.
- ICCID (ITU-T E.118): 19 or 20 digits starting "89", the last a Luhn check digit.
- IMSI: 15 digits (MCC 3 + MNC 2–3 + MSIN).
- IC card UID: 4, 7 or 10 bytes, as 8, 14 or 20 hex characters (stored upper-case).

Each ``clean_*`` returns the normalised value or raises ``InvalidInput`` naming ``field``.
"""

import re

from django.utils.translation import gettext as _

from onecard.core.errors import InvalidInput


def luhn_check_digit(digits):
    """The Luhn check digit for a string of digits (without its check digit)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number):
    return len(number) > 1 and number[-1] == luhn_check_digit(number[:-1])


def _text(value, field):
    if not isinstance(value, str):
        raise InvalidInput({field: [_("Enter the value as text.")]})
    return value.strip()


def clean_card_serial(value, field="number"):
    value = _text(value, field)
    if not re.fullmatch(r"[0-9]{19}", value):
        raise InvalidInput({field: [_("An RFID-SIM card number has 19 digits.")]})
    if not luhn_valid(value):
        raise InvalidInput({field: [_("The check digit of this card number is wrong.")]})
    return value


def clean_iccid(value, field="iccid"):
    value = _text(value, field)
    if not re.fullmatch(r"89[0-9]{17,18}", value):
        raise InvalidInput({field: [_("An ICCID has 19 or 20 digits and starts with 89.")]})
    if not luhn_valid(value):
        raise InvalidInput({field: [_("The check digit of this ICCID is wrong.")]})
    return value


def clean_imsi(value, field="imsi"):
    value = _text(value, field)
    if not re.fullmatch(r"[0-9]{15}", value):
        raise InvalidInput({field: [_("An IMSI has 15 digits.")]})
    return value


def clean_uid(value, field="number"):
    value = _text(value, field).upper()
    if not re.fullmatch(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}", value):
        raise InvalidInput({field: [_("An IC card UID has 8, 14 or 20 hexadecimal characters.")]})
    return value
