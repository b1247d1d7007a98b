from django.urls import include, path
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from sensorgrid.accounts.api.urls import router as accounts_router
from sensorgrid.alerts.api.urls import router as alerts_router
from sensorgrid.ingest.api.keys import router as ingest_key_router
from sensorgrid.inventory.api.urls import router as inventory_router
from sensorgrid.telemetry.api.deadletters import router as deadletter_router
from sensorgrid.tenancy.api.urls import router as tenancy_router

ROUTERS = [
    accounts_router,
    tenancy_router,
    inventory_router,
    ingest_key_router,
    deadletter_router,
    alerts_router,
]


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request, format=None):
    """The resources of the SensorGrid API."""
    links = {"auth-token": reverse("auth-token", request=request, format=format)}
    for router in ROUTERS:
        for prefix, _viewset, basename in router.registry:
            links[prefix] = reverse(f"{basename}-list", request=request, format=format)
    return Response(links)


urlpatterns = [
    path("", api_root, name="api-root"),
    path("", include("sensorgrid.accounts.api.urls")),
    path("", include("sensorgrid.tenancy.api.urls")),
    path("", include("sensorgrid.inventory.api.urls")),
    path("", include("sensorgrid.ingest.api.urls")),
    path("", include("sensorgrid.telemetry.api.urls")),
    path("", include("sensorgrid.ingest.api.keys")),
    path("", include("sensorgrid.telemetry.api.deadletters")),
    path("", include("sensorgrid.fidelity.api.urls")),
    path("", include("sensorgrid.alerts.api.urls")),
]
