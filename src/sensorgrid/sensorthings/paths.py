"""Resource paths of the SensorThings API (OGC 18-088 section 9.2), parsed against the
entity-set registry (``schema.py``).

``Things(1)/Datastreams(2)/Observations``, ``Datastreams(3)/Thing``,
``Things(1)/name``, ``Things(1)/name/$value``, ``Things(1)/Datastreams/$ref``…
A path is parsed without touching the database: ``ResourcePath`` says which sets,
keys and navigations it walks; ``read.resolve`` walks them through the walls.

Ids are integers (``@iot.id``). A key that is not one (``Things('a')``, ``Things(x)``,
a number beyond 64 bits) names no entity and gets the 404 a missing id gets; so do an
unknown entity set, navigation or property. A path that breaks the grammar (an id on a
to-one navigation, anything after a collection or ``$value``) is a 400.
"""

import re
from dataclasses import dataclass

from sensorgrid.sensorthings import serialize
from sensorgrid.sensorthings.errors import StaError, bad_request, not_found
from sensorgrid.sensorthings.schema import ENTITY_SETS, EntitySet, Navigation

#: The largest ``@iot.id`` (PostgreSQL's bigint).
MAX_ID = 2**63 - 1
#: More segments than any meaningful path has (the FROST tests walk 4 levels).
MAX_SEGMENTS = 12

#: Properties holding JSON documents: a path may continue into them
#: (``Things(1)/properties/a/b[0]``, ``Datastreams(1)/unitOfMeasurement/symbol``).
JSON_PROPERTIES = frozenset(
    {
        "properties",
        "parameters",
        "unitOfMeasurement",
        "location",
        "feature",
        "metadata",
        "resultQuality",
        "result",
        "observedArea",
    }
)
_JSON_STEP = re.compile(r"^(?P<key>[^\[\]/]+)(?P<indexes>(?:\[\d{1,9}\])*)$")
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z$@][A-Za-z0-9_.$@-]*)(?:\((?P<key>[^()]*)\))?$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One entity set step of a path: the set, its key (None: the whole collection or a
    to-one navigation) and the navigation that led here from the previous step."""

    entity_set: EntitySet
    key: int | None = None
    navigation: Navigation | None = None

    @property
    def is_collection(self) -> bool:
        return self.key is None and (self.navigation is None or self.navigation.many)

    def __str__(self) -> str:
        name = self.navigation.name if self.navigation else self.entity_set.name
        return name if self.key is None else f"{name}({self.key})"


@dataclass(frozen=True, slots=True)
class ResourcePath:
    segments: tuple[Segment, ...]
    #: ``Things(1)/name``: the property asked for.
    property_name: str | None = None
    #: ``…/name/$value``: the raw value.
    value: bool = False
    #: ``…/$ref``: links instead of entities.
    ref: bool = False
    #: ``Things(1)/properties/a/b[0]``: keys and indexes into the property's JSON.
    json_path: tuple[str | int, ...] = ()
    #: The last step as written (``b[0]``): the key of the answer.
    json_name: str = ""

    @property
    def target(self) -> Segment:
        return self.segments[-1]

    @property
    def is_collection(self) -> bool:
        return self.property_name is None and self.target.is_collection

    def __str__(self) -> str:
        parts = [str(s) for s in self.segments]
        if self.property_name:
            parts.append(self.property_name)
        if self.json_path:
            parts.append(_json_text(self.json_path))
        if self.value:
            parts.append("$value")
        if self.ref:
            parts.append("$ref")
        return "/".join(parts)


def parse(path: str) -> ResourcePath:
    """The resource path ``path`` (relative to the service root, no query string).

    Raises ``StaError`` 404 for names and keys that cannot exist, 400 for a path that
    breaks the grammar.
    """
    parts = path.strip("/").split("/")
    if not parts or parts == [""]:
        raise bad_request("The path names no entity set.")
    if len(parts) > MAX_SEGMENTS:
        raise bad_request(f"The path has more than {MAX_SEGMENTS} segments.")
    name, key_text = _split(parts[0])
    entity_set = ENTITY_SETS.get(name)
    if entity_set is None:
        raise StaError(404, f"No entity set named {name!r}.")
    segments = [Segment(entity_set, _key(entity_set, key_text))]
    prop: str | None = None
    value = ref = False
    json_path: list[str | int] = []
    json_name = ""
    for part in parts[1:]:
        current = segments[-1]
        if value or ref:
            raise bad_request(f"Nothing may follow {'$value' if value else '$ref'} in a path.")
        if part == "$ref":
            if prop is not None:
                raise bad_request("$ref follows an entity or a collection, not a property.")
            ref = True
            continue
        if part == "$value":
            if prop is None:
                raise bad_request("$value follows a property (Things(1)/name/$value).")
            value = True
            continue
        if prop is not None:
            step = _JSON_STEP.match(part)
            if prop not in JSON_PROPERTIES or step is None:
                raise StaError(
                    404, f"{current.entity_set.singular} property {prop!r} has no part {part!r}."
                )
            json_path.append(step["key"])
            json_path.extend(int(i) for i in re.findall(r"\d+", step["indexes"]))
            json_name = part
            continue
        if current.is_collection:
            raise bad_request(
                f"{current} is a collection: name one of its entities by id, as in "
                f"{current}(1)/{part}."
            )
        name, key_text = _split(part)
        navigation = current.entity_set.navigations.get(name)
        if navigation is not None:
            target = ENTITY_SETS[navigation.target]
            if key_text is not None and not navigation.many:
                raise bad_request(f"{name} is a single entity: it takes no id.")
            segments.append(Segment(target, _key(target, key_text), navigation))
            continue
        if key_text is None and (name == "id" or name in serialize.properties(current.entity_set)):
            prop = name
            continue
        raise StaError(
            404, f"A {current.entity_set.singular} has no property or navigation {name!r}."
        )
    return ResourcePath(tuple(segments), prop, value, ref, tuple(json_path), json_name)


def _json_text(json_path: tuple[str | int, ...]) -> str:
    text = ""
    for step in json_path:
        text += f"[{step}]" if isinstance(step, int) else f"/{step}"
    return text.lstrip("/")


def _split(part: str) -> tuple[str, str | None]:
    match = _SEGMENT.match(part)
    if match is None:
        raise StaError(404, f"Not a resource path segment: {part!r}.")
    return match["name"], match["key"]


def _key(entity_set: EntitySet, text: str | None) -> int | None:
    """The integer id in ``Things(12)``; any other key names no entity (404)."""
    if text is None:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID:
        return int(text)
    raise not_found(entity_set.singular, text)
