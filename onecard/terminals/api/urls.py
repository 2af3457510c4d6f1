"""Terminals api routes."""

urlpatterns = []
