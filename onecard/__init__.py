"""OneCard: an open-source one-card (一卡通) platform."""

__version__ = "0.1.0"
