from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sensorgrid.api.root import root_view
from sensorgrid.health import views as health
from sensorgrid.ingest.api import influx
from sensorgrid.observability import views as observability
from sensorgrid.sensorthings import views as sensorthings

handler400 = "sensorgrid.api.errors.bad_request"
handler404 = "sensorgrid.api.errors.not_found"
handler500 = "sensorgrid.api.errors.server_error"

# /api/v1: one include per app (as NetBox does), each app's api/urls.py with all its
# routes; the root links the collections of their routers. The shared `api` package
# imports no app, so the apps are named here (docs/architecture.md).
API_V1_APPS = (
    "accounts",
    "tenancy",
    "inventory",
    # before ingest: its ingest/<decoder>/ would take ingest/images/
    "images",
    "outliers",
    "ingest",
    "telemetry",
    "fidelity",
    "alerts",
    "boards",
)
api_v1_includes = [include(f"sensorgrid.{app}.api.urls") for app in API_V1_APPS]
api_v1: list[URLPattern | URLResolver] = [
    path(
        "",
        root_view(
            (urls.router for urls, _app, _ns in api_v1_includes if hasattr(urls, "router")),
            named=["auth-token"],
        ),
        name="api-root",
    ),
    *(path("", urls) for urls in api_v1_includes),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("status/", health.status_page, name="status"),
    path("metrics", observability.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/geo/", include("sensorgrid.geo.api.urls")),
    # OGC SensorThings API 1.1 (docs/sensorthings.md); STA clients also ask for the
    # service root without its slash.
    path("sta/v1.1", sensorthings.service),
    path("sta/v1.1/", include("sensorgrid.sensorthings.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: the init script comes from ?script=, so the CSP needs no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    # InfluxDB's write API, where Telegraf and InfluxDB clients post (docs/devices.md).
    path("api/v2/write", influx.InfluxWriteV2View.as_view(), name="influxdb-v2-write"),
    path("write", influx.InfluxWriteV1View.as_view(), name="influxdb-v1-write"),
    path("api-auth/", include("rest_framework.urls")),
    # named dashboards of an organization and their public shares (docs/dashboard.md)
    path("boards/", include("sensorgrid.boards.urls")),
    path("", include("sensorgrid.dashboard.urls")),
]
