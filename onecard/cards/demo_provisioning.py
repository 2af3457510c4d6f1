"""Demo data: cards (demo_provisioning)."""


def load(builder):
    """Idempotent: safe to run on every start."""
