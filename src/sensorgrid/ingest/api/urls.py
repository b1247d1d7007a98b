from django.urls import path

from sensorgrid.ingest.api.views import DecoderIngestView, IngestView

urlpatterns = [
    path("ingest/", IngestView.as_view(), name="ingest"),
    path("ingest/<slug:decoder>/", DecoderIngestView.as_view(), name="ingest-decoder"),
]
