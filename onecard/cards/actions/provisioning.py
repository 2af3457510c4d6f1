"""Card actions: provisioning (see actions/__init__.py)."""

__all__ = []
