"""SensorThings MQTT topics (OGC 18-088 §14): which topics a client may subscribe or
publish to, parsed once into a ``Topic``.

A topic is ``v1.1/`` and a resource path, as in the REST API, with an optional
``?$select=…`` and, on a collection, ``$filter=…`` (FROST-Server's extension) for
subscriptions. What each kind hears (``deliver.py``):

- a collection of any entity set, navigation collections included: each entity created
  in it or updated (PATCH, PUT) while in it, as GET shows it
  (``v1.1/Observations?$select=result,phenomenonTime``, ``v1.1/Things(3)/Datastreams``);
  with a ``$filter``, those that GET with that filter answers at the time
  (``v1.1/Observations?$filter=result gt 5``);
- a single entity (``v1.1/Things(3)``, ``v1.1/Datastreams(7)/Thing``): the entity each
  time it is updated;
- a property (``v1.1/Things(3)/name``): ``{"name": …}`` each time an update changes its
  value (an update that leaves it as it was says nothing on it, as FROST-Server).

What is refused (a SUBACK failure, a dropped PUBLISH), and why:

- MQTT wildcards (``+``, ``#``) anywhere: a topic names one resource path, and a
  filter such as ``v1.1/#`` would have to be answered with every path of every entity
  (what the spec does not define); the collection ``v1.1/Observations`` already gives
  everything the subscriber may read.
- topics starting with ``$`` and anything not starting with ``v1.1/``;
- ``$value``, ``$ref`` and paths into a JSON property (``properties/a``): the spec
  names entity sets, entities and properties only;
- query options other than ``$select`` and ``$filter`` (``$expand``, ``$orderby``,
  ``$top``…), a malformed ``$filter`` (what GET answers 400), ``$select`` on a property,
  ``$filter`` on anything but a collection, and any option on a publish.

Topics that differ only in spelling (the order of ``$select``'s names, spaces and
parentheses in ``$filter``, a trailing ``/``) have the same ``Topic.reading``:
the server reads them once per round and user walls (server.py).
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from sensorgrid.sensorthings import paths, read
from sensorgrid.sensorthings.errors import StaError, bad_request
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet

PREFIX = "v1.1/"
#: topics longer than this are refused before parsing (paths have at most 12 segments)
MAX_TOPIC = 1024
#: the query options a subscription may have (parse_options reads them)
TOPIC_OPTIONS = ("$select", "$filter")


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its text as the client wrote it, the resource path and the
    ``$select`` and ``$filter`` of the messages (none: every property of every entity, as
    GET answers)."""

    text: str
    path: paths.ResourcePath
    options: read.ReadOptions
    #: what is read for it, however spelled: the path, the $select set, the parsed $filter
    reading: tuple = field(default=(), compare=False)

    @property
    def entity_set(self) -> EntitySet:
        return self.path.target.entity_set


def parse(text: str, *, publish: bool = False) -> Topic:
    """The topic ``text``; ``StaError`` (with a message for the log) if it is refused."""
    if len(text) > MAX_TOPIC:
        raise bad_request(f"A topic has at most {MAX_TOPIC} characters.")
    if "+" in text or "#" in text:
        raise bad_request("Wildcards are not SensorThings topics: name a resource path.")
    if not text.startswith(PREFIX):
        raise bad_request(f"SensorThings topics start with {PREFIX}.")
    path_text, question, query = text[len(PREFIX) :].partition("?")
    path = paths.parse(path_text)
    if path.ref or path.value or path.json_path:
        raise bad_request("Subscribe to an entity set, an entity or a property.")
    entity_set = path.target.entity_set
    params: dict[str, str] = {}
    if question:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
        for given, value in pairs:
            name = given.lower()
            if name not in TOPIC_OPTIONS:
                raise bad_request(f"Topics take $select and $filter only, not {given!r}.")
            if name in params:
                raise bad_request(f"{name} is given twice.")
            params[name] = value
        if not pairs:
            raise bad_request("A ? in a topic is followed by $select=… or $filter=….")
    if params and path.property_name is not None:
        raise bad_request("A property's topic takes no $select or $filter.")
    if "$filter" in params and not path.is_collection:
        raise bad_request("$filter is for collections (v1.1/Observations?$filter=…).")
    if publish and (
        params or not path.is_collection or entity_set is not ENTITY_SETS["Observations"]
    ):
        raise bad_request(
            "Publish Observations to v1.1/Datastreams(x)/Observations or v1.1/Observations."
        )
    options = read.parse_options(params, entity_set)  # a malformed $filter: 400
    return Topic(text, path, options, _reading(path, options, entity_set))


def _reading(path: paths.ResourcePath, options: read.ReadOptions, entity_set: EntitySet):
    """What decides the messages of a topic, one value however the topic is spelled."""
    from sensorgrid.sensorthings import query

    condition = None
    if "$filter" in options.query:
        parsed = query.parse_options({"$filter": options.query["$filter"]}, entity_set)
        condition = repr(parsed.filter)  # frozen dataclasses: equal trees, equal text
    select = tuple(sorted(options.select)) if options.select is not None else None
    return (str(path), select, condition)


def refusal(text: str, *, publish: bool = False) -> str | None:
    """Why ``text`` is refused, or None if it is a topic."""
    try:
        parse(text, publish=publish)
    except StaError as exc:
        return exc.message
    return None
