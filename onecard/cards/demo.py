"""Demo data: cards (demo)."""


def load(builder):
    """Idempotent: safe to run on every start."""
