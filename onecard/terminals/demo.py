"""Demo data: terminals."""


def load(builder):
    """Idempotent: safe to run on every start."""
