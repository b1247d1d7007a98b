"""Image metadata; the bytes live in object storage (docs/images.md)."""
