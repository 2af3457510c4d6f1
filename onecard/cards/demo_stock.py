"""Demo data: cards (demo_stock)."""


def load(builder):
    """Idempotent: safe to run on every start."""
