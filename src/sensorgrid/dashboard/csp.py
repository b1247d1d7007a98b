"""The Content-Security-Policy of every page (docs/dashboard.md, "Content-Security-Policy").

Scripts come from our own origin only: no inline scripts or event handlers, no eval.
A name that slipped into HTML unescaped would still not run. django-csp writes the
header; the policy is built here so settings.py stays declarative and the tile origin
and the WebSocket host are derived, not hand-kept.

No Django models are imported: settings.py imports this module.
"""

import base64
import hashlib
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost

from sensorgrid.env import ConfigurationError

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


class TileOriginError(ConfigurationError):
    """SENSORGRID_MAP_TILES names a host CSP cannot express."""


def tile_origin(template: str) -> str | None:
    """The origin of a tile URL template, as a CSP source (None: same origin or none).

    A placeholder in the host (``{s}`` subdomains) becomes CSP's leading ``*.``, the
    only wildcard a host source allows.
    """
    if not template:
        return None
    parts = urlsplit(template)
    if not parts.netloc:
        return None  # a path on this server: 'self' covers it
    netloc = _PLACEHOLDER.sub("*", parts.netloc)
    host = netloc.rsplit("@", 1)[-1]
    if "*" in host and not (host.startswith("*.") and "*" not in host[2:]):
        raise TileOriginError(
            f"SENSORGRID_MAP_TILES: a placeholder may only be the first label of the host "
            f"(like https://{{s}}.tiles.example.org/...), not {parts.netloc!r}"
        )
    return f"{parts.scheme}://{host}"


def image_sources(tiles: str) -> list[str]:
    origin = tile_origin(tiles)
    return [SELF, "data:"] + ([origin] if origin else [])


def policy(tiles: str) -> dict:
    """django-csp 4's CONTENT_SECURITY_POLICY for a SENSORGRID_MAP_TILES value."""
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            # Leaflet and uPlot position elements through element.style (CSSOM), which
            # style-src does not govern; no page needs a <style> block or style="".
            "style-src": [SELF],
            "img-src": image_sources(tiles),
            "font-src": [SELF],
            # 'self' plus the page's own host for /ws/live/ (LiveCSPMiddleware).
            "connect-src": [SELF],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        }
    }


@cache
def drf_style_hashes() -> tuple[str, ...]:
    """CSP hashes of the style="" attributes in Django REST framework's own templates.

    Its browsable API and login page position a few buttons with inline style
    attributes. Rather than 'unsafe-inline', those pages allow exactly these
    declarations ('unsafe-hashes' covers attributes, never <style> or scripts); read
    from the installed DRF, so an upgrade keeps them right.
    """
    import rest_framework

    templates = Path(rest_framework.__file__).parent / "templates"
    values = set()
    for template in templates.rglob("*.html"):
        values.update(re.findall(r'style="([^"{}]*)"', template.read_text()))
    return tuple(
        f"'sha256-{base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()}'"
        for v in sorted(values)
    )


def _drf_page(request, response) -> bool:
    from rest_framework.renderers import BrowsableAPIRenderer  # not at settings import

    renderer = getattr(response, "accepted_renderer", None)
    return isinstance(renderer, BrowsableAPIRenderer) or request.path_info.startswith("/api-auth/")


class LiveCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, plus ws:// and wss:// of the requested host in connect-src
    (and DRF's few style attributes on DRF's own pages, see drf_style_hashes).

    CSP 3 lets 'self' match ws: on the same host, but not every browser does; the host
    is known per request only (SENSORGRID_ALLOWED_HOSTS may list several). get_host()
    has already been checked against ALLOWED_HOSTS, so it cannot be made up.
    """

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:  # the answer is a 400 page: it opens no socket
            return parts
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), f"ws://{host}", f"wss://{host}"]
        if _drf_page(request, response):
            update["style-src"] = [*update.get("style-src", []), "'unsafe-hashes'"]
            update["style-src"] += drf_style_hashes()
        parts.update = update
        return parts
