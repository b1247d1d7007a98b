from django.urls import path
from rest_framework.routers import SimpleRouter

from sensorgrid.ingest.api.deadletters import DeadLetterViewSet
from sensorgrid.ingest.api.keys import IngestKeyViewSet
from sensorgrid.ingest.api.views import DecoderIngestView, IngestView, TtnDeviceIngestView

router = SimpleRouter()
router.register("ingest-keys", IngestKeyViewSet, basename="ingestkey")
# The dead letters are telemetry rows; their API lives here because it replays them
# through the pipeline (telemetry imports nothing of ingest).
router.register("dead-letters", DeadLetterViewSet, basename="deadletter")

urlpatterns = [
    path("ingest/", IngestView.as_view(), name="ingest"),
    path("ingest/<slug:decoder>/", DecoderIngestView.as_view(), name="ingest-decoder"),
    path(
        "ingest/ttn/devices/<str:device>/", TtnDeviceIngestView.as_view(), name="ingest-ttn-device"
    ),
    *router.urls,
]
