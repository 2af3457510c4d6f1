"""Fixtures for implementation projects, built through the real actions on top of ``world``."""

import pytest

from onecard.projects import actions


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project_a(world):
    """Customer A's project, built by integrator ``world.integrator``; every stage owned by the
    customer's manager."""
    return actions.create_project(actor=world.manager, group_customer=world.customer_a,
                                  name="Customer A one-card", integrator=world.integrator)
