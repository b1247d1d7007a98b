"""Prometheus metrics of the images app (exposed with the others at /metrics)."""

from prometheus_client import Counter

IMAGES = Counter(
    "sensorgrid_ingested_images",
    "Pictures committed by image ingest, by source (http, mqtt) and result (new, duplicate).",
    ["source", "result"],
)
IMAGE_BYTES = Counter(
    "sensorgrid_ingested_image_bytes",
    "Bytes of new pictures' originals written to the image store.",
)
