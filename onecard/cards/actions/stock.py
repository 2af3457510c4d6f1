"""Card actions: stock (see actions/__init__.py)."""

__all__ = []
