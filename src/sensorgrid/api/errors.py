"""Every API error is JSON with a message a user can act on; none is a 500."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": f"Request body too large: the limit is {_limit()} bytes."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    if isinstance(exc, ProtectedError | RestrictedError):
        blockers = getattr(exc, "protected_objects", None) or exc.restricted_objects
        users = sorted({str(obj) for obj in blockers})
        return Response(
            {
                "detail": "Still in use, so it cannot be deleted: "
                + ", ".join(users[:10])
                + (f" and {len(users) - 10} more" if len(users) > 10 else "")
                + "."
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        # Validation catches conflicts first; this is the race between two requests.
        log.info("integrity conflict: %s", exc)
        return Response(
            {"detail": "The change conflicts with existing data (a concurrent change?)."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def _limit() -> int:
    from django.conf import settings

    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def not_found(request, exception=None):
    """404: JSON under /api/, elsewhere the dashboard's page (dashboard/templates/404.html)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as page

    return page(request)


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views.defaults import bad_request as page

    return page(request, exception)
