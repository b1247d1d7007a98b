"""Login throttling with django-axes: who a client is, and what a locked-out one sees.

Failed logins are counted per account and per client address on every form that signs
in (dashboard, admin, browsable API) and on the token endpoint; past the limit, that
account (from anywhere) and that address (for any account) are refused until the
cool-off has passed without a new failure.
"""

import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str | None:
    """The client's address as DRF's throttles see it (SENSORGRID_NUM_PROXIES).

    One rule for both limiters: X-Forwarded-For counts only as far as declared
    proxies wrote it; anything that is not an address falls back to the peer.
    """
    address = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


def cooloff_minutes() -> int:
    return settings.SENSORGRID_LOGIN_COOLOFF_MINUTES


def message() -> str:
    minutes = cooloff_minutes()
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed logins; try again in {minutes} {unit}."


def _wants_json(request) -> bool:
    return (
        request.path.startswith("/api/v1/")
        or request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest"
        or "application/json" in request.META.get("HTTP_ACCEPT", "")
    )


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """429 with the message (AXES_LOCKOUT_CALLABLE): JSON for API clients, else a page."""
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"detail": message()}, status=429)
    else:
        response = render(
            request, "registration/locked_out.html", {"message": message()}, status=429
        )
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response
