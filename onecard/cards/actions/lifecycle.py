"""Card actions: lifecycle (see actions/__init__.py)."""

__all__ = []
