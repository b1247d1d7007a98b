"""The one entry of ``/sta/v1.1/``: authenticate, parse the path, dispatch the method.

GET/HEAD read (``read.py``); POST creates in a collection or a navigation collection
(201 with ``Location``), PATCH/PUT update (200 with the entity), DELETE deletes (200);
POST/PUT/DELETE on ``…/$ref`` link and unlink (``write``). Every refusal is a
``StaError`` rendered as ``{"code", "type": "error", "message"}``; nothing is a 500.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from sensorgrid import storable
from sensorgrid.sensorthings import auth, mirror, paths, read, root, serialize, walls
from sensorgrid.sensorthings.errors import StaError, bad_request
from sensorgrid.sensorthings.schema import ENTITY_SETS

log = logging.getLogger(__name__)

JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
#: The answer when the database is locked, times out or is unreachable (503).
BUSY = "The database is busy or unreachable; try the request again in a moment."
RETRY_AFTER_SECONDS = 5
#: The answer when a concurrent change makes the request impossible (409).
CONFLICT = "A concurrent change conflicts with the request; read the entities again."
#: Paths that are actions, not resources (optional conformance classes).
ACTIONS = {"$batch": "batch", "CreateObservations": "dataarray"}


def base_url(request: HttpRequest) -> str:
    """The absolute URL of the service root (``…/sta/v1.1/``), from the request (its
    host and scheme, behind a proxy as ``SECURE_PROXY_SSL_HEADER`` says)."""
    return request.build_absolute_uri(reverse("sensorthings-root"))


#: The integers orjson writes (signed and unsigned 64-bit); a body may hold no other.
SMALLEST_INT = -(2**63)
BIGGEST_INT = 2**64 - 1


def dumps(data: Any) -> bytes:
    """``data`` as JSON, never an exception for what is stored: orjson refuses integers
    beyond 64 bits and nesting deeper than 255 levels (a TypeError, which was a 500 on
    every listing that held one, SEC-7), so those are written by the standard encoder
    (big integers as exact numbers). Bodies refuse such integers (``_body``), but rows
    stored before, or by other paths, must still render."""
    try:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        pass
    try:
        return orjson.dumps(_exact_big_ints(data), option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, RecursionError):
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode()


def _exact_big_ints(value: Any) -> Any:
    """``value`` with every integer orjson refuses as a ready-made JSON number."""
    if isinstance(value, int) and not isinstance(value, bool):
        if SMALLEST_INT <= value <= BIGGEST_INT:
            return value
        return orjson.Fragment(str(value).encode())
    if isinstance(value, dict):
        return {
            (str(key) if isinstance(key, int) else key): _exact_big_ints(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_exact_big_ints(item) for item in value]
    return value


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type=JSON, headers=headers)


def error_response(exc: StaError) -> HttpResponse:
    headers = {"WWW-Authenticate": auth.CHALLENGE} if exc.status == 401 else None
    body = {"code": exc.status, "type": "error", "message": exc.message}
    return json_response(body, exc.status, headers)


@csrf_exempt
def service(request: HttpRequest, path: str = "") -> HttpResponse:
    """Every request under ``/sta/v1.1/``."""
    try:
        response = _dispatch(request, path)
    except StaError as exc:
        response = error_response(exc)
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        response = error_response(StaError(413, f"Request body too large: at most {limit} bytes."))
    except (OverflowError, DataError) as exc:
        # A value the database refuses (out of range, …) that no check caught first.
        log.warning("sensorthings: refused %s %s: %s", request.method, request.path, exc)
        response = error_response(bad_request("A value in the request is out of range."))
    except (OperationalError, InterfaceError) as exc:
        # Locked, timed out, unreachable or a lost connection: nothing is wrong with the
        # request, and the same one may succeed in a moment: not a 400 to give up on.
        log.warning("sensorthings: database busy for %s %s: %s", request.method, request.path, exc)
        response = error_response(StaError(503, BUSY))
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    except IntegrityError as exc:
        # A concurrent change won (an entity linked here was deleted meanwhile, …).
        log.warning("sensorthings: conflict on %s %s: %s", request.method, request.path, exc)
        response = error_response(StaError(409, CONFLICT))
    except DatabaseError as exc:
        log.warning("sensorthings: refused %s %s: %s", request.method, request.path, exc)
        response = error_response(bad_request("The database refused the request."))
    if request.method == "HEAD":
        response.content = b""
    return response


def _dispatch(request: HttpRequest, path: str) -> HttpResponse:
    method = request.method or "GET"
    identity = auth.identify(request)
    base = base_url(request)
    if path.strip("/") == "":
        if method not in ("GET", "HEAD"):
            raise StaError(405, "The service root only answers GET.")
        return json_response(root.document(base))
    name = path.strip("/")
    if name in ACTIONS:
        return _action(request, identity, ACTIONS[name], base)
    resource = paths.parse(path)
    # A series that ingestion started since the last request becomes a Datastream now
    # (one SELECT when everything is in step).
    mirror.ensure()
    ctx = read.Context(base=base, user=identity.user, path=str(resource))
    if method in ("GET", "HEAD"):
        return _get(request, resource, ctx)
    handler = WRITES.get(method)
    if handler is None:
        raise StaError(405, f"{method} is not a SensorThings method here.")
    return handler(request, identity, resource, ctx)


# --- reading -------------------------------------------------------------------------------


def _params(request: HttpRequest) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, values in request.GET.lists():
        if name.startswith("$") and len(values) > 1:
            raise bad_request(f"{name} is given {len(values)} times; give it once.")
        params[name] = values[-1]
    return params


def _get(request: HttpRequest, resource: paths.ResourcePath, ctx: read.Context) -> HttpResponse:
    resolved = read.resolve(resource, ctx.user)
    entity_set = resolved.entity_set
    params = _params(request)
    if resource.property_name is not None or (resource.ref and not resource.is_collection):
        if params.keys() & read.OWN_OPTIONS | read.QUERY_OPTIONS - {"$skiptoken"}:
            pass  # FROST ignores query options on single values too
        return _single_value(resource, resolved, ctx)
    options = read.parse_options(params, entity_set)
    if resource.is_collection:
        body = read.collection_response(
            resolved.queryset, entity_set, options, ctx, refs=resource.ref
        )
        return json_response(body)
    return json_response(read.entity_response(resolved, options, ctx))


def _single_value(
    resource: paths.ResourcePath, resolved: read.Resolved, ctx: read.Context
) -> HttpResponse:
    entity_set = resolved.entity_set
    assert resolved.instance is not None
    if resource.ref:
        return json_response(serialize.ref(ctx.base, entity_set, resolved.instance.pk))
    name = resource.property_name
    assert name is not None
    options = read.ReadOptions(select=frozenset({name}))
    row = read.entity_response(resolved, options, ctx)
    if name == "id":
        return json_response({"@iot.id": resolved.instance.pk})
    value = row.get(name)
    if resource.json_path:
        value = _inside(value, resource)
        name = resource.json_name
    if value is None:
        return HttpResponse(status=204)
    if resource.value:
        if isinstance(value, dict | list):
            return HttpResponse(dumps(value), content_type=JSON)
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    return json_response({name: value})


def _inside(document: Any, resource: paths.ResourcePath) -> Any:
    """The part of a JSON property a path names (``properties/a/b[0]``); 404 if absent."""
    for step in resource.json_path:
        in_list = isinstance(step, int) and isinstance(document, list) and step < len(document)
        in_object = isinstance(step, str) and isinstance(document, dict) and step in document
        if in_list or in_object:
            document = document[step]
        else:
            raise StaError(404, f"No {resource.json_name!r} in {resource.property_name}.")
    return document


# --- writing -------------------------------------------------------------------------------


def _write_module():
    from sensorgrid.sensorthings import write

    return write


def _writer(name: str) -> Callable[..., Any]:
    function = getattr(_write_module(), name, None)
    if function is None:
        raise StaError(405, f"This service does not support {name} yet.")
    return function


def _body(request: HttpRequest, *, patch: bool = False) -> Any:
    content_type = request.content_type or ""
    allowed = (JSON, JSON_PATCH) if patch else (JSON,)
    if content_type not in allowed:
        raise bad_request(
            f"Send the body as {' or '.join(allowed)} (Content-Type), not {content_type or 'none'}."
        )
    raw = request.body
    if not raw.strip():
        raise bad_request("The request has no body.")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"The body is not JSON: {exc}.") from None
    check_values(data)
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_values(data: Any) -> None:
    """400 for a parsed body holding what can be neither stored nor written back: text
    with NUL or lone surrogates, integers beyond 64 bits (naming where they are)."""
    try:
        found = storable.find_in_json(data)
        big = _find_big_int(data)
    except RecursionError:
        raise bad_request("The body is nested too deeply.") from None
    if found:
        raise bad_request(f"The body holds text no database can store ({found}).")
    if big is not None:
        where, number = big
        shown = number if len(number) <= 40 else f"{number[:20]}…({len(number)} digits)"
        raise bad_request(
            f"{where or 'The body'}: the integer {shown} is out of range "
            f"(integers from {SMALLEST_INT} to {BIGGEST_INT}; write a bigger number as a "
            "decimal or a string)."
        )


def _find_big_int(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first integer of a parsed JSON value outside ``SMALLEST_INT``…``BIGGEST_INT``,
    as (where, its digits): ``where`` is a dotted path such as ``properties.a``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if SMALLEST_INT <= value <= BIGGEST_INT:
            return None
        return path, str(value)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_big_int(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_big_int(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _require_user(identity: auth.Identity) -> None:
    """Anonymous writes get FROST's 401 (with the challenge), before the body is read."""
    if identity.is_anonymous:
        raise auth.Unauthorized("Sign in to write: Authorization: Token <key> or Basic auth.")


def _organization(request: HttpRequest, identity: auth.Identity):
    header = request.headers.get(walls.ORGANIZATION_HEADER)
    return walls.writer_organization(identity.user, header)


def _created(entity_set, instance, ctx: read.Context) -> HttpResponse:
    key = instance if isinstance(instance, int) else instance.pk
    resource = paths.ResourcePath((paths.Segment(entity_set, key),))
    resolved = read.resolve(resource, ctx.user)
    body = read.entity_response(resolved, read.ReadOptions(), ctx)
    location = serialize.self_link(ctx.base, entity_set, key)
    return json_response(body, 201, {"Location": location})


def _post(request, identity, resource: paths.ResourcePath, ctx) -> HttpResponse:
    if resource.ref:
        return _link(request, identity, resource, ctx)
    if not resource.is_collection:
        raise StaError(405, "POST creates in a collection (Things, Things(1)/Datastreams).")
    _require_user(identity)
    body = _body(request)
    resolved = read.resolve(resource, ctx.user)
    parent = None
    if resolved.parent is not None:
        parent_set, parent_instance, navigation = resolved.parent
        parent = (parent_set, parent_instance, navigation.name)
    organization = _organization(request, identity)
    create = _writer("create")
    instance = create(
        resolved.entity_set, body, user=identity.user, organization=organization, parent=parent
    )
    return _created(resolved.entity_set, instance, ctx)


def _update(request, identity, resource: paths.ResourcePath, ctx, *, replace: bool):
    if resource.ref:
        if replace:
            return _link(request, identity, resource, ctx)
        raise StaError(405, "PATCH does not apply to $ref; use PUT or POST.")
    if resource.is_collection or resource.property_name is not None:
        raise StaError(405, "PATCH and PUT change one entity: Things(1).")
    _require_user(identity)
    patch = request.content_type == JSON_PATCH
    body = _body(request, patch=not replace)
    resolved = read.resolve(resource, ctx.user)
    assert resolved.instance is not None
    if patch:
        _writer("apply_json_patch")(
            resolved.entity_set, resolved.instance, body, user=identity.user
        )
    else:
        _writer("update")(
            resolved.entity_set, resolved.instance, body, user=identity.user, replace=replace
        )
    return _fresh(resolved, resource, ctx)


def _fresh(resolved: read.Resolved, resource: paths.ResourcePath, ctx) -> HttpResponse:
    assert resolved.instance is not None
    single = paths.ResourcePath((paths.Segment(resolved.entity_set, resolved.instance.pk),))
    again = read.resolve(single, ctx.user)
    return json_response(read.entity_response(again, read.ReadOptions(), ctx))


def _patch(request, identity, resource, ctx) -> HttpResponse:
    return _update(request, identity, resource, ctx, replace=False)


def _put(request, identity, resource, ctx) -> HttpResponse:
    return _update(request, identity, resource, ctx, replace=True)


def _delete(request, identity, resource: paths.ResourcePath, ctx) -> HttpResponse:
    if resource.ref:
        return _link(request, identity, resource, ctx)
    if resource.property_name is not None:
        raise StaError(405, "DELETE removes an entity (Things(1)) or a collection's $filter.")
    _require_user(identity)
    resolved = read.resolve(resource, ctx.user)
    if resource.is_collection:
        # FROST-Server's filtered delete; without a $filter it would empty the collection,
        # which no client means by accident: refused.
        options = read.parse_options(_params(request), resolved.entity_set)
        if not options.query.get("$filter"):
            raise bad_request("DELETE on a collection deletes what its $filter selects.")
        chosen = read.apply_query(resolved.queryset, resolved.entity_set, options, ctx.user)
        _writer("delete_many")(resolved.entity_set, chosen, user=identity.user)
        return HttpResponse(status=200)
    _writer("delete")(resolved.entity_set, resolved.instance, user=identity.user)
    return HttpResponse(status=200)


def _link(request, identity, resource: paths.ResourcePath, ctx) -> HttpResponse:
    """``$ref``: POST to a collection ref adds a link, PUT on a to-one ref sets it,
    DELETE on ``Coll(id)/Nav(id)/$ref`` (or a to-one ref) removes it."""
    if len(resource.segments) < 2:
        raise bad_request("$ref links need a navigation: Things(1)/Locations/$ref.")
    _require_user(identity)
    segment = resource.segments[-1]
    parent_path = paths.ResourcePath(resource.segments[:-1])
    parent = read.resolve(parent_path, ctx.user)
    navigation = segment.navigation
    assert navigation is not None and parent.instance is not None
    if request.method == "DELETE":
        target: Any = None
        if segment.key is not None or not navigation.many:
            target = read.resolve(paths.ResourcePath(resource.segments), ctx.user).instance
        else:  # DELETE Things(1)/Locations/$ref?$id=…/Locations(2) (OData's form)
            given = request.GET.get("$id")
            if not given:
                raise bad_request("Name the link to remove: …/Locations(2)/$ref or $ref?$id=.")
            member_key = _id_from_link(given, segment.entity_set.name, ctx.base)
            member = paths.ResourcePath((*resource.segments[:-1], replace(segment, key=member_key)))
            target = read.resolve(member, ctx.user).instance
        _writer("unlink")(
            parent.entity_set, parent.instance, navigation.name, target, user=identity.user
        )
        return HttpResponse(status=200)
    if segment.key is not None:
        raise bad_request("POST or PUT a $ref to the navigation, not to one of its members.")
    body = _body(request)
    if not isinstance(body, dict) or set(body) - {"@iot.id", "@iot.selfLink", "@id"} or not body:
        raise bad_request('A $ref body is {"@iot.id": <id>} or {"@iot.selfLink": <url>}.')
    key = body.get("@iot.id")
    if key is None:  # a link: STA's @iot.selfLink or OData 4.01's @id (FROST's tests)
        link = body.get("@iot.selfLink", body.get("@id"))
        key = _id_from_link(str(link), segment.entity_set.name, ctx.base)
    if not isinstance(key, int) or isinstance(key, bool):
        raise bad_request("@iot.id is an integer.")
    target_path = paths.ResourcePath((paths.Segment(segment.entity_set, key),))
    target = read.resolve(target_path, ctx.user).instance
    _writer("link")(parent.entity_set, parent.instance, navigation.name, target, user=identity.user)
    return HttpResponse(status=204)  # OData: a $ref written answers No Content


def _id_from_link(link: str, set_name: str, base: str) -> int:
    """The id in a link to one entity of ``set_name`` (absolute or relative)."""
    relative = link[len(base) :] if link.startswith(base) else link.rstrip("/").rsplit("/")[-1]
    try:
        resource = paths.parse(relative)
    except StaError:
        raise bad_request(f"{link!r} names no entity of {set_name}.") from None
    key = resource.target.key
    if len(resource.segments) != 1 or resource.target.entity_set.name != set_name or key is None:
        raise bad_request(f"{link!r} names no entity of {set_name}.")
    return key


def _action(request: HttpRequest, identity: auth.Identity, module: str, base: str):
    if not root.has_module(f"sensorgrid.sensorthings.write.{module}"):
        raise StaError(404, f"{request.path} is not supported by this service.")
    if request.method != "POST":
        raise StaError(405, f"{request.path} only answers POST.")
    _require_user(identity)
    import importlib

    handler = importlib.import_module(f"sensorgrid.sensorthings.write.{module}")
    return handler.handle(request, identity=identity, base=base)


WRITES: dict[str, Callable[..., HttpResponse]] = {
    "POST": _post,
    "PATCH": _patch,
    "PUT": _put,
    "DELETE": _delete,
}

__all__ = ["ENTITY_SETS", "base_url", "service"]
