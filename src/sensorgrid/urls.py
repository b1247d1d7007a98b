from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sensorgrid.health import views as health
from sensorgrid.observability import views as observability

handler400 = "sensorgrid.api.errors.bad_request"
handler404 = "sensorgrid.api.errors.not_found"
handler500 = "sensorgrid.api.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("status/", health.status_page, name="status"),
    path("metrics", observability.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("sensorgrid.api.urls")),
    path("api/geo/", include("sensorgrid.geo.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: the init script comes from ?script=, so the CSP needs no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("", include("sensorgrid.dashboard.urls")),
]
