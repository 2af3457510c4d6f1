"""Money is integer fen (分) everywhere: never floats, never Decimal in the ledger.

``fen`` checks a value that claims to be an amount; ``yuan`` formats one for people.
"""

# The largest amount one transfer may carry: ¥10 million. Keeps sums far from 64-bit limits.
MAX_TRANSFER_FEN = 1_000_000_000


def fen(value, *, allow_zero=False):
    """Return ``value`` as an int amount of fen, or raise ValueError saying why not."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("An amount is a whole number of fen.")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError("An amount must be positive.")
    if value > MAX_TRANSFER_FEN:
        raise ValueError(f"An amount may not exceed {MAX_TRANSFER_FEN} fen.")
    return value


def yuan(amount):
    """``12345`` → ``"123.45"``; negative amounts keep their sign."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(int(amount)), 100)
    return f"{sign}{whole}.{cents:02d}"
