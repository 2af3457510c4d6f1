"""Terminals console routes."""

from django.urls import path

from . import views

urlpatterns = [
    path("terminals/", views.terminal_list, name="terminal-list"),
    path("terminals/new/", views.terminal_create, name="terminal-create"),
    path("terminals/<int:pk>/", views.terminal_detail, name="terminal-detail"),
    path("terminals/<int:pk>/rotate-secret/", views.terminal_rotate, name="terminal-rotate"),
    path("terminals/<int:pk>/disable/", views.terminal_transition, {"name": "disable"},
         name="terminal-disable"),
    path("terminals/<int:pk>/enable/", views.terminal_transition, {"name": "enable"},
         name="terminal-enable"),
    path("terminals/<int:pk>/retire/", views.terminal_transition, {"name": "retire"},
         name="terminal-retire"),
]
