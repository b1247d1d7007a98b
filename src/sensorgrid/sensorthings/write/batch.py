"""``POST $batch``: the executor both batch forms share, and the JSON form of OData 4.01
(FROST-Server's JsonBatchRequest extension, which STA 1.1 clients use). The
``multipart/mixed`` form of OData 4.0 (STA 1.1 section 11.2) is read and written by
``multipart.py`` and runs through the same ``execute``.

``{"requests": [{"id", "method", "url", "body", "atomicityGroup", "dependsOn",
"headers"}]}`` → ``{"responses": [{"id", "status", "body", "location"}]}``, in order
(a body for GETs and errors; a write answers its status and location, as FROST-Server).

- Requests run one after the other through ``dispatch`` (the views' own entry for one
  request, so paths, query options, walls and errors are exactly those of a request of
  its own).
- Consecutive requests of one ``atomicityGroup`` are a change set: one transaction. If
  one of them fails, all of its changes are rolled back: the failed request answers with
  its error, the others of the group with 424 (Failed Dependency) in the JSON form (the
  multipart form answers the failed request alone, as OData 4.0 says).
- A created entity is referenced by later requests as ``$<id of the POST>``: at the
  start of a ``url`` (``$sensor1/Datastreams``) and as ``{"@iot.id": "$sensor1"}`` in a
  body.
- A request whose ``dependsOn`` names a failed request is not run (424).
- A batch never runs a batch: a request whose url names ``$batch`` (any spelling:
  ``/$batch``, an absolute URL, ``%24BATCH``, with a query) answers 400, and a sub-request
  that reaches the batch action anyway is refused there, so a batch runs at most
  ``MAX_REQUESTS`` requests in all. A body nested too deeply for Python is a 400.
- All responses of a batch draw on one entity budget (``read.shared_budget``): a batch
  response holds at most ``read.MAX_ENTITIES`` entities, as any response does.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.db import transaction

from sensorgrid import storable
from sensorgrid.sensorthings.errors import StaError

#: ``dispatch(method, url, body, headers) -> (status, headers, body)``: one sub-request.
#: ``body`` goes in parsed (JSON) or as bytes (sent as they are); the answer's body comes
#: back parsed or as bytes (with its ``Content-Type`` among the headers).
Dispatch = Callable[[str, str, Any, dict[str, str]], tuple[int, dict[str, str], Any]]

METHODS = {"get", "post", "patch", "put", "delete"}
MAX_REQUESTS = 1000
#: Set on a sub-request: the batch action refuses it (a batch never runs a batch).
BATCH_MARK = "_sta_batch_sub_request"
JSON_TYPE = "application/json"
_ENTITY = re.compile(r"([A-Za-z]+\(\d+\))/?$")


class _Failed(Exception):
    """Rolls a change set back."""


@dataclass
class Result:
    """The answer to one request of a batch, whichever form the batch came in."""

    id: str
    method: str
    status: int
    location: str | None = None
    #: The body of a read or an error (FROST's parts carry none for a write): parsed
    #: JSON, or None when it is not JSON (``content`` holds it as sent).
    body: Any = None
    content: bytes = b""
    content_type: str = ""

    def json(self) -> dict[str, Any]:
        """FROST-Server's part of a JSON batch: id, status, location; a body for reads and
        errors only (its test suite compares the parts exactly, and a Jackson reader
        refuses other keys such as atomicityGroup)."""
        part: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.location:
            part["location"] = self.location
        if self.body is not None:
            part["body"] = self.body
        return part


@dataclass
class Unit:
    """A request on its own, or a change set (an atomicity group) run as one transaction."""

    group: str | None
    requests: list[dict[str, Any]]
    results: list[Result] = field(default_factory=list)
    #: The request that failed a change set: all of its changes were rolled back.
    failure: Result | None = None


def process(document: object, *, user: Any, dispatch: Dispatch) -> dict[str, Any]:
    """Run a JSON batch; the response document (``user`` is for the record: ``dispatch``
    runs each request as that user)."""
    responses: list[dict[str, Any]] = []
    for unit in execute(_requests(document), dispatch):
        if unit.failure is None:
            responses.extend(result.json() for result in unit.results)
            continue
        for request in unit.requests:
            if request["id"] == unit.failure.id:
                responses.append(unit.failure.json())
            else:
                message = "Another request of its atomicity group failed."
                responses.append(_error(request, 424, message).json())
    return {"responses": responses}


def execute(requests: list[dict[str, Any]], dispatch: Dispatch) -> list[Unit]:
    """Run checked requests in order (the JSON form's and the multipart form's alike):
    consecutive requests of one ``atomicityGroup`` are one change set."""
    units: list[Unit] = []
    created: dict[str, str] = {}  # request id → "Things(5)"
    failed: set[str] = set()
    index = 0
    while index < len(requests):
        group = requests[index].get("atomicityGroup")
        if group is None:
            unit = Unit(None, [requests[index]])
            unit.results.append(_run(requests[index], dispatch, created, failed))
            units.append(unit)
            index += 1
            continue
        members = []
        while index < len(requests) and requests[index].get("atomicityGroup") == group:
            members.append(requests[index])
            index += 1
        units.append(_change_set(Unit(group, members), dispatch, created, failed))
    return units


def _requests(document: object) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("requests"), list):
        raise StaError(400, 'A JSON batch is an object with a "requests" array.')
    requests = document["requests"]
    if len(requests) > MAX_REQUESTS:
        raise StaError(400, f"A batch holds at most {MAX_REQUESTS} requests.")
    seen: set[str] = set()
    for number, request in enumerate(requests):
        where = f"requests[{number}]"
        if not isinstance(request, dict):
            raise StaError(400, f"{where} must be an object.")
        # The outer request's checks saw these as escapes in its JSON text (\\ud800): a
        # lone surrogate in an id, a URL or a header reached a query or the answer (500).
        if found := storable.find_in_json(request):
            inside, message = found
            raise StaError(400, f"{where}.{inside}: {message}" if inside else f"{where}: {message}")
        if not isinstance(request.get("id"), str) or not request["id"]:
            raise StaError(400, f"{where}: id must be a non-empty string.")
        if request["id"] in seen:
            raise StaError(400, f"{where}: id {request['id']!r} is used twice.")
        seen.add(request["id"])
        method = request.get("method")
        if not isinstance(method, str) or method.lower() not in METHODS:
            raise StaError(400, f"{where}: method must be one of {', '.join(sorted(METHODS))}.")
        if not isinstance(request.get("url"), str):
            raise StaError(400, f"{where}: url must be a string.")
        group = request.get("atomicityGroup")
        if group is not None and not isinstance(group, str):
            raise StaError(400, f"{where}: atomicityGroup must be a string.")
        depends = request.get("dependsOn", [])
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise StaError(400, f"{where}: dependsOn must be an array of request ids.")
        headers = request.get("headers", {})
        if not isinstance(headers, dict):
            raise StaError(400, f"{where}: headers must be an object.")
    return requests


def _change_set(unit: Unit, dispatch: Dispatch, created: dict[str, str], failed: set[str]) -> Unit:
    made: list[str] = []
    try:
        with transaction.atomic():
            for request in unit.requests:
                result = _run(request, dispatch, created, failed)
                unit.results.append(result)
                if result.status >= 400:
                    raise _Failed
                if request["id"] in created:
                    made.append(request["id"])
    except _Failed:
        for request_id in made:  # rolled back: nothing to reference any more
            created.pop(request_id, None)
        unit.failure = unit.results[-1]
        failed.update(request["id"] for request in unit.requests)
    return unit


def _run(
    request: dict[str, Any], dispatch: Dispatch, created: dict[str, str], failed: set[str]
) -> Result:
    for dependency in request.get("dependsOn", []):
        if dependency in failed:
            failed.add(request["id"])
            return _error(request, 424, f"It depends on request {dependency!r}, which failed.")
    try:
        refused = request.get("refused")
        if isinstance(refused, StaError):  # found while the batch was read (multipart)
            raise refused
        url = _url(request["url"], created) if not _is_batch(request["url"]) else "$batch"
        if message := storable.message(unquote(url)):  # %00 in a URL of either form
            raise StaError(400, f"The URL holds what no database stores: {message}")
        if _is_batch(url):
            raise StaError(400, "A batch cannot contain a batch.")
        body = _body(request.get("body"), created)
    except StaError as exc:
        failed.add(request["id"])
        return _error(request, exc.status, exc.message)
    except RecursionError:
        failed.add(request["id"])
        return _error(request, 400, "The body is nested too deeply.")
    method = request["method"].upper()
    headers = {str(k): str(v) for k, v in request.get("headers", {}).items()}
    status, response_headers, response_body = dispatch(method, url, body, headers)
    named = {k.lower(): v for k, v in response_headers.items()}
    result = Result(request["id"], method, status, location=named.get("location") or None)
    if result.location:
        found = _ENTITY.search(result.location)
        if found and status == 201:
            created[request["id"]] = found.group(1)
    if response_body is not None and (method == "GET" or status >= 300):
        if isinstance(response_body, bytes):
            result.content = response_body
            result.content_type = named.get("content-type", "")
            if result.content_type.startswith(JSON_TYPE) and response_body:
                result.body = json.loads(response_body)
        else:
            result.body = response_body
            result.content = _dumps(response_body)
            result.content_type = JSON_TYPE
    if status >= 400:
        failed.add(request["id"])
    return result


def _url(url: str, created: dict[str, str]) -> str:
    url = url.strip()
    if url.startswith("$"):  # $name[/path][?query]
        path, mark, query = url.partition("?")
        name, _, rest = path[1:].partition("/")
        if name not in created:
            raise StaError(400, f"url: ${name} names no entity created earlier in this batch.")
        return created[name] + (f"/{rest}" if rest else "") + mark + query
    return url.lstrip("/")


def _is_batch(url: str) -> bool:
    """Whether ``url`` (as ``_url`` made it) names the ``$batch`` action in any spelling."""
    path = unquote(urlsplit(url).path).strip().rstrip("/")
    return path.rsplit("/", 1)[-1].strip().lower() == "$batch"


def _body(body: Any, created: dict[str, str]) -> Any:
    """``{"@iot.id": "$name"}`` → the id of the entity request ``name`` created. A body
    given as bytes (a part of a multipart batch) is only rewritten when it is JSON and
    names an entity so; otherwise it goes to the request as sent, whose own checks
    answer what is wrong with it."""
    if isinstance(body, bytes):
        if b'"$' not in body:
            return body
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        replaced = _body(parsed, created)
        return body if replaced == parsed else json.dumps(replaced).encode()
    if isinstance(body, list):
        return [_body(item, created) for item in body]
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        if key == "@iot.id" and isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name not in created:
                raise StaError(
                    400, f"@iot.id: {value} names no entity created earlier in this batch."
                )
            out[key] = int(created[name].rsplit("(", 1)[1].rstrip(")"))
        else:
            out[key] = _body(value, created)
    return out


def _error(request: dict[str, Any], status: int, message: str) -> Result:
    body = {"code": status, "type": "error", "message": message}
    method = str(request.get("method", "")).upper()
    return Result(
        request["id"], method, status, body=body, content=_dumps(body), content_type=JSON_TYPE
    )


def _dumps(body: Any) -> bytes:
    from sensorgrid.sensorthings.views import dumps

    return dumps(body)


def handle(request: Any, *, identity: Any, base: str) -> Any:
    """``POST $batch`` (the views' action entry): each sub-request goes through the
    service view itself, with the batch request's own credentials, host and cookies.
    A JSON body is FROST's JSON batch; a ``multipart/mixed`` one is OData 4.0's
    (``multipart.py``); both run through ``execute``."""
    from sensorgrid.sensorthings import read, views
    from sensorgrid.sensorthings.write import multipart
    from sensorgrid.sensorthings.write.dataarray import http_body

    if getattr(request, BATCH_MARK, False):  # however the url was spelt
        raise StaError(400, "A batch cannot contain a batch.")
    content_type = (request.content_type or "").lower()
    requests = document = None
    if content_type == multipart.MULTIPART:
        requests = multipart.requests(request.META.get("CONTENT_TYPE", ""), request.body)
    elif content_type == JSON_TYPE:
        document = http_body(request)
    else:
        raise StaError(
            400,
            "Send a batch as application/json (FROST-Server's JSON batch) or as "
            "multipart/mixed; boundary=… (OData 4.0), not "
            f"{request.content_type or 'without a Content-Type'}.",
        )
    root = request.path[: -len("$batch")] if request.path.endswith("$batch") else request.path

    def dispatch(
        method: str, url: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        try:
            sub = _sub_request(request, root, method, url, body, headers)
        except RecursionError:
            message = "The body is nested too deeply."
            return 400, {}, {"code": 400, "type": "error", "message": message}
        response = views.service(sub, url.partition("?")[0])
        return response.status_code, {k: v for k, v in response.items()}, response.content

    with read.shared_budget():  # the responses of a batch are one response
        if requests is not None:
            return multipart.response(execute(requests, dispatch))
        result = process(document, user=identity.user, dispatch=dispatch)
    return views.json_response(result)


def _sub_request(
    outer: Any, root: str, method: str, url: str, body: Any, headers: dict[str, str]
) -> Any:
    from django.http import HttpRequest, QueryDict

    path, _, query = url.partition("?")
    sub = HttpRequest()
    sub.method = method
    sub.path = sub.path_info = root + path
    sub.META = {
        key: value
        for key, value in outer.META.items()
        if key.startswith("HTTP_")
        or key in ("SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "wsgi.url_scheme")
    }
    named = {key.lower(): value for key, value in headers.items()}
    sub.META["HTTP_CONTENT_TYPE"] = sub.META["CONTENT_TYPE"] = named.get("content-type", JSON_TYPE)
    sub.META["REQUEST_METHOD"] = method
    sub.META["QUERY_STRING"] = query
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    sub.META["CONTENT_LENGTH"] = str(len(raw))
    sub._body = raw  # type: ignore[attr-defined]
    sub._set_content_type_params(sub.META)  # type: ignore[attr-defined]
    sub.GET = QueryDict(query)
    sub.COOKIES = outer.COOKIES
    extra: Any = sub  # attributes middleware sets on a real request
    setattr(extra, BATCH_MARK, True)
    extra.user = getattr(outer, "user", None)
    extra.session = getattr(outer, "session", None)
    extra._get_scheme = lambda: outer.scheme
    return sub
