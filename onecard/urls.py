"""Top-level URLs: console at /, API at /api/v1/, schema and docs at /api/schema/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from onecard.core.api_urls import urlpatterns as api_v1

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("terminal/v1/", include(("onecard.terminals.protocol.urls", "terminal"),
                                 namespace="terminal")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include(("onecard.core.console_urls", "console"), namespace="console")),
]

handler400 = "onecard.core.views.bad_request"
handler403 = "onecard.core.views.permission_denied"
handler404 = "onecard.core.views.page_not_found"
handler500 = "onecard.core.views.server_error"
