"""SensorThings MQTT topics (OGC 18-088 §14): which topics a client may subscribe or
publish to, parsed once into a ``Topic``.

A topic is ``v1.1/`` and a resource path, as in the REST API, with an optional
``?$select=…`` for subscriptions. What each kind hears (``deliver.py``):

- a collection of any entity set, navigation collections included: each entity created
  in it or updated (PATCH, PUT) while in it, as GET shows it
  (``v1.1/Observations?$select=result,phenomenonTime``, ``v1.1/Things(3)/Datastreams``);
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
- query options other than ``$select`` (``$filter``, ``$expand`` are FROST extensions
  this service does not offer), ``$select`` on a property, and ``$select`` on a publish.

Topics that differ only in spelling (the order of ``$select``'s names, a trailing
``/``) have the same ``Topic.reading``:
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


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its text as the client wrote it, the resource path and the
    ``$select`` of the messages (None: every property, as GET answers)."""

    text: str
    path: paths.ResourcePath
    options: read.ReadOptions
    #: what is read for it, however spelled: the path, the $select set (and $filter)
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
        for name, value in pairs:
            if name != "$select":
                raise bad_request(f"Topics take $select only, not {name!r}.")
            if name in params:
                raise bad_request("$select is given twice.")
            params[name] = value
        if not pairs:
            raise bad_request("A ? in a topic is followed by $select=….")
    if params and path.property_name is not None:
        raise bad_request("A property's topic takes no $select.")
    if publish and (
        params or not path.is_collection or entity_set is not ENTITY_SETS["Observations"]
    ):
        raise bad_request(
            "Publish Observations to v1.1/Datastreams(x)/Observations or v1.1/Observations."
        )
    options = read.parse_options(params, entity_set)
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
