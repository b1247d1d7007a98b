"""Requests carrying text no database can store are refused with a 400 at the edge.

A NUL character (``%00``) in a path or query parameter, or a NUL or lone surrogate
(``\\u0000``, ``\\ud800``) in a JSON body, used to reach a query or a save and end in a
500 on PostgreSQL (see ``sensorgrid.storable``). Two doors, so that no view, filter or
admin page has to remember:

- ``UnstorableTextMiddleware``: the path and the query string of every request;
- ``JSONParser``: every JSON body the API parses (``REST_FRAMEWORK``'s parser);
  ``FormParser`` and ``MultiPartParser`` likewise for form fields (a multipart field with
  a NUL reached a related field's lookup and ended in a 500 on PostgreSQL).

API answers name the parameter the way DRF's own validation does
(``{"quantity": ["Null characters are not allowed."]}``); other pages get a plain 400.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from sensorgrid import storable


class UnstorableTextMiddleware:
    """400 for a request whose path or query string holds a NUL character."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        return refusal(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest):
        return refusal(request) or await self.get_response(request)


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The 400 for an unstorable path or query parameter, or None (the usual case).

    Decoding leaves no lone surrogate in either (invalid UTF-8 becomes U+FFFD), so
    NUL is the one character to look for; the raw query string is checked first so
    that a clean request costs two substring searches.
    """
    if "\x00" in request.path:
        return _answer(request, {"detail": "The path contains a null character (%00)."})
    query = request.META.get("QUERY_STRING", "")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, values in request.GET.lists():
        if "\x00" in name:
            detail = "A query parameter name contains a null character (%00)."
            return _answer(request, {"detail": detail})
        if any("\x00" in value for value in values):
            return _answer(request, {name: [storable.NULL_MESSAGE]})
    return None  # an encoded "%2500": a literal "%00" after decoding, which is fine


def _answer(request: HttpRequest, body: dict) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(body, status=400)
    text = " ".join(v if isinstance(v, str) else f"{k}: {v[0]}" for k, v in body.items())
    if request.path.startswith("/sta/"):  # the SensorThings API's error body (FROST's)
        return JsonResponse({"code": 400, "type": "error", "message": text}, status=400)
    return HttpResponseBadRequest(f"Bad request. {text}\n", content_type="text/plain")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing strings (and keys) with NUL or lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json.loads of "[" x 100,000
            raise ParseError("JSON parse error - nested too deeply.") from None
        try:
            found = storable.find_in_json(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if found is None:
            return data
        where, message = found
        if not isinstance(data, dict):
            raise ParseError(f"{message} (at {where or 'the top level'})")
        field, _, inner = where.partition(".")
        raise ValidationError({field: [f"{message} (at {where})" if inner else message]})


def _refuse_unstorable_fields(data) -> None:
    """A 400 naming the first form field whose name or a value holds NUL or a lone
    surrogate (files are bytes, not checked)."""
    for name, values in data.lists():
        for text in (name, *values):
            found = storable.message(text) if isinstance(text, str) else None
            if found is not None:
                raise ValidationError({name: [found]})


class FormParser(parsers.FormParser):
    """DRF's form parser, refusing fields with NUL or lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_fields(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing fields with NUL or lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_fields(parsed.data)
        return parsed


def storable_json(value) -> None:
    """A validator for JSON fields that may be filled by other means than a JSON body
    (a form, a multipart field, code): no string or key holds NUL or a lone surrogate."""
    found = storable.find_in_json(value)
    if found is not None:
        where, message = found
        raise ValidationError(f"{message} (at {where})" if where else message)
