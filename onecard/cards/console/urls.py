"""The cards app's console routes, one module per sub-domain (see actions/__init__.py)."""

from . import lifecycle, provisioning, stock

urlpatterns = [*lifecycle.urlpatterns, *stock.urlpatterns, *provisioning.urlpatterns]
