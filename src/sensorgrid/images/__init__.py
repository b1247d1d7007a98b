"""Pictures from camera nodes: ingest, object storage, outlier detection (docs/images.md)."""
