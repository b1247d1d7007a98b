"""SensorThings MQTT topics (OGC 18-088 §14): which topics a client may subscribe or
publish to, parsed once into a ``Topic``.

A topic is ``v1.1/`` and a resource path, as in the REST API, with an optional
``?$select=…`` for subscriptions: ``v1.1/Datastreams(7)/Observations``,
``v1.1/Observations?$select=result,phenomenonTime``, ``v1.1/Things(3)/Datastreams``.

What is refused (a SUBACK failure, a dropped PUBLISH), and why:

- MQTT wildcards (``+``, ``#``) anywhere: a topic names one resource path, and a
  filter such as ``v1.1/#`` would have to be answered with every path of every entity
  (what the spec does not define); the collection ``v1.1/Observations`` already gives
  everything the subscriber may read.
- topics starting with ``$`` and anything not starting with ``v1.1/``;
- paths to single entities, properties, ``$value`` and ``$ref``: SensorGrid announces
  new entities (creations), and a single entity's topic would only ever hear updates;
- query options other than ``$select`` (``$filter``, ``$expand`` are FROST extensions
  this service does not offer), and ``$select`` on a publish.
- collections of entity sets whose creations are not announced (``CREATED_SETS``).
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl

from sensorgrid.sensorthings import paths, read
from sensorgrid.sensorthings.errors import StaError, bad_request
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet

PREFIX = "v1.1/"
#: topics longer than this are refused before parsing (paths have at most 12 segments)
MAX_TOPIC = 1024
#: the entity sets whose new entities are announced (feed.py)
CREATED_SETS = frozenset({"Observations", "Datastreams"})


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its text as the client wrote it, the resource path and the
    ``$select`` of the messages (None: every property, as GET answers)."""

    text: str
    path: paths.ResourcePath
    options: read.ReadOptions

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
    if not path.is_collection or path.ref:
        raise bad_request("Subscribe to a collection (v1.1/Datastreams(1)/Observations).")
    entity_set = path.target.entity_set
    if entity_set.name not in CREATED_SETS:
        raise bad_request(
            f"New {entity_set.name} are not announced over MQTT: subscribe to "
            + " or ".join(sorted(CREATED_SETS))
            + "."
        )
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
    if publish and (params or entity_set is not ENTITY_SETS["Observations"]):
        raise bad_request(
            "Publish Observations to v1.1/Datastreams(x)/Observations or v1.1/Observations."
        )
    options = read.parse_options(params, entity_set)
    return Topic(text, path, options)


def refusal(text: str, *, publish: bool = False) -> str | None:
    """Why ``text`` is refused, or None if it is a topic."""
    try:
        parse(text, publish=publish)
    except StaError as exc:
        return exc.message
    return None
