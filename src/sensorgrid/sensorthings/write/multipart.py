"""``POST $batch`` in OData 4.0's ``multipart/mixed`` form (STA 1.1 section 11.2; OData
4.0 Part 1 section 11.7), the form FROST-Server's BatchTests 01-05 send.

Reading: the body is a MIME multipart message (the standard library's ``email`` parser
splits it); each part is ``application/http`` (one request: request line, headers, body)
or ``multipart/mixed`` (a change set of such parts, each with a ``Content-ID``). The
requests become the JSON form's requests (``batch.execute``), so every part goes through
the same dispatch, walls and transactions as a request of its own; a change set is one
atomicity group. Anything malformed refuses the whole batch (400, naming the part), as a
malformed JSON batch is: nothing has run then.

- Request URLs as OData allows them: relative to the batch (``Things(1)``), an absolute
  path with the service's version (``/v1.1/Things``, FROST's tests; ``/sta/v1.1/…``), an
  absolute URI, or ``$<Content-ID>`` of an entity created earlier in the batch
  (``$1/Datastreams``); ``{"@iot.id": "$1"}`` in a body names it too.
- A part's body runs to the next delimiter: ``Content-Length`` is not trusted (FROST's
  tests give Java's count of characters, one short for each ``°``).

Writing: FROST-Server's bytes, which its BatchTests compare whole: ``multipart/mixed`` with
one ``application/http`` part per request in order, lines ending with LF (FROST's; RFC 7230
3.5 lets a reader take a bare LF), ``http/1.1 201 no text`` as each status line,
``Location`` for a create, a compact JSON body with ``Content-Type: application/json;
charset=UTF-8`` for a read, an error's body unlabelled (404: FROST's ``Not Found``), and
nothing after the closing delimiter. A change set is a nested ``multipart/mixed`` (a
40-character boundary) echoing each ``Content-ID``; a change set that failed is rolled back
and answered by the failing request's response alone (OData 4.0, 11.7.4), the requests
around it run on.
"""

import email.parser
import http.client
import io
import re
import secrets
from email import errors as mime
from typing import Any
from urllib.parse import unquote, urlsplit

from django.http import HttpResponse

from sensorgrid.sensorthings.errors import StaError
from sensorgrid.sensorthings.write import batch

MULTIPART = "multipart/mixed"
HTTP_PART = "application/http"
SERVED_VERSION = "v1.1"
CRLF = b"\r\n"
LF = b"\n"
#: FROST-Server's body for every 404 part.
NOT_FOUND = b'{"code":404,"type":"error","message":"Not Found"}'
#: FROST-Server's rule for a Content-ID: it is written after ``$`` in URLs.
_CONTENT_ID = re.compile(r"[0-9A-Za-z.~_-]+")
_REQUEST_LINE = re.compile(r"([A-Za-z]+) +(\S+)(?: +HTTP/\d\.\d)? *")
_VERSION = re.compile(r"(?:^|/)(v\d+\.\d+)(?:/|$)")


def _refuse(message: str) -> StaError:
    return StaError(400, message)


# --- reading -------------------------------------------------------------------------------


def requests(content_type: str, body: bytes) -> list[dict[str, Any]]:
    """The requests of a multipart batch, as ``batch.execute`` takes them; 400 for a
    malformed one."""
    # Bound the parser's work before it starts: every request needs a delimiter line.
    delimiters = body.count(b"\n--") + body.startswith(b"--")
    if delimiters > 3 * batch.MAX_REQUESTS + 2:
        raise _refuse(f"A batch holds at most {batch.MAX_REQUESTS} requests.")
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + CRLF + CRLF
    try:
        message = email.parser.BytesParser().parsebytes(head + body)
    except RecursionError:
        raise _refuse("The batch is nested too deeply: change sets do not nest.") from None
    boundary = message.get_boundary()
    if not boundary:
        raise _refuse(
            "Content-Type multipart/mixed needs its boundary: "
            "multipart/mixed; boundary=batch_1 (the line --batch_1 starts each part)."
        )
    _check_multipart(message, boundary, "The batch")
    found: list[dict[str, Any]] = []
    content_ids: set[str] = set()
    for number, part in enumerate(message.get_payload(), 1):
        where = f"Part {number}"
        if _kind(part, where) == MULTIPART:
            members = _change_set(part, where)
            for member_number, member in enumerate(members, 1):
                member_where = f"Part {number}.{member_number}"
                request = _request(member, member_where, content_ids, in_change_set=True)
                request["atomicityGroup"] = f"change set {number}"
                found.append(request)
        else:
            found.append(_request(part, where, content_ids, in_change_set=False))
        if len(found) > batch.MAX_REQUESTS:
            raise _refuse(f"A batch holds at most {batch.MAX_REQUESTS} requests.")
    return found


def _check_multipart(message: Any, boundary: str, what: str) -> None:
    for defect in message.defects:
        if isinstance(defect, mime.StartBoundaryNotFoundDefect):
            raise _refuse(
                f'{what} has no delimiter line "--{boundary}": a multipart batch is parts, '
                f'each after a line "--{boundary}", closed by a line "--{boundary}--".'
            )
        if isinstance(defect, mime.CloseBoundaryNotFoundDefect):
            raise _refuse(f'{what} does not end with its closing line "--{boundary}--".')
    if message.defects:
        raise _refuse(f"{what} is not a well-formed multipart/mixed body.")


def _kind(part: Any, where: str) -> str:
    if part.get("Content-Type") is None:
        raise _refuse(
            f"{where} has no Content-Type: a batch part is application/http (one request) "
            "or multipart/mixed (a change set)."
        )
    kind = part.get_content_type()
    if kind not in (HTTP_PART, MULTIPART):
        raise _refuse(
            f"{where} is {kind}: a batch part is application/http (one request) or "
            "multipart/mixed (a change set)."
        )
    if kind == HTTP_PART and part.defects:
        raise _refuse(
            f"{where}: its MIME headers (Content-Type, Content-ID) must end with an empty "
            "line before the request."
        )
    return kind


def _change_set(part: Any, where: str) -> list[Any]:
    boundary = part.get_boundary()
    if not boundary:
        raise _refuse(f"{where} is a change set (multipart/mixed) without its boundary.")
    members = part.get_payload()
    if not members or (not part.is_multipart() and members.strip() == f"--{boundary}--"):
        raise _refuse(f"{where} is a change set without a request.")
    _check_multipart(part, boundary, f"The change set of {where.lower()}")
    for number, member in enumerate(members, 1):
        member_where = f"{where}.{number}"
        if _kind(member, member_where) != HTTP_PART:
            raise _refuse(
                f"{member_where} is a change set inside a change set; change sets do not "
                "nest (each request of one is application/http)."
            )
    return members


def _request(
    part: Any, where: str, content_ids: set[str], *, in_change_set: bool
) -> dict[str, Any]:
    content_id = str(part.get("Content-ID") or "").strip() or None
    if content_id is None and in_change_set:
        raise _refuse(
            f"{where} has no Content-ID: each request of a change set carries one, "
            "unique in the batch (OData 4.0, 11.7.3)."
        )
    if content_id is not None:
        if not _CONTENT_ID.fullmatch(content_id):
            raise _refuse(
                f"{where}: Content-ID {content_id!r} may hold only letters, digits and "
                ". ~ _ - (it is written after $ in later requests)."
            )
        if content_id in content_ids:
            raise _refuse(f"{where}: Content-ID {content_id!r} is used twice in this batch.")
        content_ids.add(content_id)
    method, target, headers, body = _http(part.get_payload(decode=True) or b"", where)
    url, refused = _url(target)
    request: dict[str, Any] = {
        # the JSON form's id: the Content-ID (so $<Content-ID> names what it created),
        # else one no Content-ID can spell
        "id": content_id or f"#{where}",
        "content_id": content_id,
        "method": method,
        "url": url,
        "body": body if method != "get" else None,
        "headers": headers,
    }
    if refused:  # an exception, which no JSON batch can bring along
        request["refused"] = StaError(*refused)
    return request


def _http(payload: bytes, where: str) -> tuple[str, str, dict[str, str], bytes]:
    """An ``application/http`` part: request line, headers, an empty line, the body."""
    payload = payload.lstrip(b"\r\n")
    first, _, rest = payload.partition(b"\n")
    line = first.rstrip(b"\r").decode("utf-8", "replace")
    found = _REQUEST_LINE.fullmatch(line)
    if not found:
        shown = line if len(line) <= 80 else line[:80] + "…"
        raise _refuse(
            f'{where}: "{shown}" is not a request line such as "GET Things(1) HTTP/1.1".'
            if line
            else f"{where} holds no request: after its MIME headers and an empty line "
            'comes a request line such as "GET Things(1) HTTP/1.1".'
        )
    method = found.group(1).lower()
    if method not in batch.METHODS:
        raise _refuse(
            f"{where}: {found.group(1)} is not a method a batch runs "
            f"({', '.join(sorted(m.upper() for m in batch.METHODS))})."
        )
    stream = io.BytesIO(rest)
    try:
        message = http.client.parse_headers(stream)
    except http.client.HTTPException as exc:
        raise _refuse(f"{where}: its headers are refused ({exc}).") from None
    if message.defects:
        raise _refuse(
            f'{where}: a line of its request headers is not "Name: value" (an empty line '
            "ends the headers before the body)."
        )
    headers = {"Content-Type": message["Content-Type"]} if message["Content-Type"] else {}
    return method, found.group(2), headers, stream.read()


def _url(target: str) -> tuple[str, tuple[int, str] | None]:
    """``target`` as the JSON form's url (relative to the service root), and the refusal
    of a request for another version of the API."""
    if target.startswith("$"):  # $<Content-ID>[/…][?…]
        return target, None
    parts = urlsplit(target)
    path = unquote(parts.path)
    refused = None
    version = _VERSION.search(path)
    if version:
        if version.group(1) != SERVED_VERSION:
            refused = (404, f"This service serves SensorThings {SERVED_VERSION} only.")
        path = path[version.end() :]
    # percent-decoded as a request's own path is; a "?" that was %3F stays in the path
    path = path.lstrip("/").replace("?", "%3F")
    return path + (f"?{parts.query}" if parts.query else ""), refused


# --- writing -------------------------------------------------------------------------------


def response(units: list[batch.Unit]) -> HttpResponse:
    """The batch response: one part per request, a change set's together, in FROST-Server's
    bytes (its BatchTests compare the whole text): lines end with LF, each part's status
    line is ``http/1.1 201 no text``, and nothing follows the closing delimiter."""
    parts: list[bytes] = []
    for unit in units:
        content_ids = {request["id"]: request.get("content_id") for request in unit.requests}
        if unit.group is None or unit.failure is not None:
            result = unit.failure or unit.results[0]
            parts.append(_http_part(result, content_ids.get(result.id)))
            continue
        members = [_http_part(result, content_ids.get(result.id)) for result in unit.results]
        boundary = _boundary("changeset_", members)
        head = b"Content-Type: multipart/mixed; boundary=" + boundary + LF + LF
        parts.append(head + _multipart(members, boundary))
    boundary = _boundary("batch_", parts)
    # FROST's servlet labels this answer application/json; the boundary belongs here so
    # that MIME readers find it (FROST's tests read it from the first line instead).
    return HttpResponse(
        _multipart(parts, boundary), content_type=f"{MULTIPART}; boundary={boundary.decode()}"
    )


def _http_part(result: batch.Result, content_id: str | None) -> bytes:
    """MIME headers, the status line, ``Location`` or the body's ``Content-Type`` (a 2xx
    with a body only: FROST labels no error), an empty line, the body."""
    head = b"Content-Type: " + HTTP_PART.encode() + LF
    if content_id:
        head += b"Content-ID: " + content_id.encode() + LF
    lines = [f"http/1.1 {result.status} no text".encode()]
    if result.location:
        lines.append(b"Location: " + result.location.encode())
    content = result.content
    if result.status == 404:
        # FROST's one 404 text: a missing entity, another organization's and a path this
        # service does not serve read the same in a batch's answer
        content = NOT_FOUND
    elif content and result.status < 300:
        content_type = result.content_type or batch.JSON_TYPE
        if ";" not in content_type:
            content_type += "; charset=UTF-8"
        lines.append(b"Content-Type: " + content_type.encode())
    return head + LF + LF.join(lines) + LF + LF + content


def _multipart(parts: list[bytes], boundary: bytes) -> bytes:
    """RFC 2046: the line break before a delimiter line belongs to the delimiter."""
    delimiter = b"--" + boundary
    return b"".join(delimiter + LF + part + LF for part in parts) + delimiter + b"--"


def _boundary(prefix: str, parts: list[bytes]) -> bytes:
    """40 characters, as FROST-Server's (its tests read a change set's boundary as the 40
    characters after ``boundary=``), found in none of the parts."""
    while True:
        boundary = (prefix + secrets.token_hex(20))[:40].encode()
        if not any(boundary in part for part in parts):
            return boundary


__all__ = ["MULTIPART", "requests", "response"]
