from rest_framework.renderers import JSONRenderer


class GeoJSONRenderer(JSONRenderer):
    """application/geo+json (RFC 7946); plain JSON clients get the same body."""

    media_type = "application/geo+json"
    format = "geojson"
