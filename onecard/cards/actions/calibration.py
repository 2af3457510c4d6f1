"""Card actions: calibration (see actions/__init__.py)."""

__all__ = []
