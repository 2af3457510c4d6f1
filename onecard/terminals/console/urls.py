"""Terminals console routes."""

urlpatterns = []
