"""The SensorThings data model as SensorGrid stores it: one ``EntitySet`` per entity set.

The registry every part reads: the request paths (which navigation leads where), the
query options (which STA property is which column), the serializer and the writers.
A property maps to an ORM lookup on the set's model, or to an annotation (``computed``)
that the set's querysets carry. Navigation properties name their target set and the ORM
relation that reaches it, so ``$filter=Datastream/Thing/name eq 'x'`` is a join.
"""

from dataclasses import dataclass, field

from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Cast, Concat

from sensorgrid.inventory.models import Node
from sensorgrid.sensorthings import models as sta


@dataclass(frozen=True, slots=True)
class Navigation:
    """A navigation property: ``name`` in STA, ``target`` set, to-many or to-one, and the
    ORM lookup from this set's model to the target's model."""

    name: str
    target: str
    many: bool
    lookup: str


@dataclass(frozen=True, slots=True)
class EntitySet:
    name: str  # "Things"
    singular: str  # "Thing"
    model: type[models.Model]
    #: STA property → ORM lookup on ``model`` (``@iot.id`` is ``pk`` everywhere).
    properties: dict[str, str]
    navigations: dict[str, Navigation]
    #: Annotations every queryset of this set carries (properties computed from columns).
    computed: dict[str, models.Expression] = field(default_factory=dict)

    def queryset(self) -> models.QuerySet:
        qs = self.model._default_manager.all()
        return qs.annotate(**self.computed) if self.computed else qs


def _nav(name: str, target: str, many: bool, lookup: str) -> tuple[str, Navigation]:
    return name, Navigation(name, target, many, lookup)


THINGS = EntitySet(
    "Things",
    "Thing",
    Node,
    {
        "id": "pk",
        "name": "sta_name",
        "description": "sta__description",
        # The Thing row's own properties, not the node's metadata: a public Thing is
        # readable by everybody, the node's metadata only by its organization.
        "properties": "sta__properties",
    },
    dict(
        [
            _nav("Locations", "Locations", True, "sta_locations"),
            _nav("HistoricalLocations", "HistoricalLocations", True, "sta_historical_locations"),
            _nav("Datastreams", "Datastreams", True, "sta_datastreams"),
        ]
    ),
    computed={
        # A node without an alias is "Thing <id>", never its device id (mirror.thing_name).
        "sta_name": Case(
            When(alias="", then=Concat(Value("Thing "), Cast("pk", models.CharField()))),
            default=F("alias"),
            output_field=models.CharField(),
        ),
    },
)

LOCATIONS = EntitySet(
    "Locations",
    "Location",
    sta.Location,
    {
        "id": "pk",
        "name": "name",
        "description": "description",
        "encodingType": "encoding_type",
        "location": "location",
        "properties": "properties",
    },
    dict(
        [
            _nav("Things", "Things", True, "things"),
            _nav("HistoricalLocations", "HistoricalLocations", True, "historical_locations"),
        ]
    ),
)

HISTORICAL_LOCATIONS = EntitySet(
    "HistoricalLocations",
    "HistoricalLocation",
    sta.HistoricalLocation,
    {"id": "pk", "time": "time"},
    dict(
        [
            _nav("Thing", "Things", False, "node"),
            _nav("Locations", "Locations", True, "locations"),
        ]
    ),
)

DATASTREAMS = EntitySet(
    "Datastreams",
    "Datastream",
    sta.Datastream,
    {
        "id": "pk",
        "name": "name",
        "description": "description",
        "observationType": "observation_type",
        "unitOfMeasurement": "unit_of_measurement",
        "observedArea": "observed_area",
        "properties": "properties",
        # phenomenonTime and resultTime are computed from the Observations (the read
        # side adds them).
    },
    dict(
        [
            _nav("Thing", "Things", False, "node"),
            _nav("Sensor", "Sensors", False, "sensor"),
            _nav("ObservedProperty", "ObservedProperties", False, "observed_property"),
            _nav("Observations", "Observations", True, "observation_rows"),
        ]
    ),
)

SENSORS = EntitySet(
    "Sensors",
    "Sensor",
    sta.Sensor,
    {
        "id": "pk",
        "name": "name",
        "description": "description",
        "encodingType": "encoding_type",
        "metadata": "metadata",
        "properties": "properties",
    },
    dict([_nav("Datastreams", "Datastreams", True, "datastreams")]),
)

OBSERVED_PROPERTIES = EntitySet(
    "ObservedProperties",
    "ObservedProperty",
    sta.ObservedProperty,
    {
        "id": "pk",
        "name": "name",
        "definition": "definition",
        "description": "description",
        "properties": "properties",
    },
    dict([_nav("Datastreams", "Datastreams", True, "datastreams")]),
)

OBSERVATIONS = EntitySet(
    "Observations",
    "Observation",
    sta.ObservationRow,
    {
        "id": "pk",
        "phenomenonTime": "phenomenon_time",
        "resultTime": "result_time",
        # ``result`` is ``result_number`` for numbers, ``result`` (JSON) otherwise: the
        # query translation picks by the literal's type.
        "result": "result",
        "validTime": "valid_time_start",
        "parameters": "parameters",
        "resultQuality": "result_quality",
    },
    dict(
        [
            _nav("Datastream", "Datastreams", False, "datastream"),
            _nav("FeatureOfInterest", "FeaturesOfInterest", False, "feature_of_interest"),
        ]
    ),
)

FEATURES_OF_INTEREST = EntitySet(
    "FeaturesOfInterest",
    "FeatureOfInterest",
    sta.FeatureOfInterest,
    {
        "id": "pk",
        "name": "name",
        "description": "description",
        "encodingType": "encoding_type",
        "feature": "feature",
        "properties": "properties",
    },
    dict([_nav("Observations", "Observations", True, "observation_rows")]),
)

#: An Observation's own properties in the order of the spec's dataArray components
#: (read's ``$resultFormat=dataArray``, CreateObservations and the writers' checks).
OBSERVATION_PROPERTIES = (
    "phenomenonTime",
    "result",
    "resultTime",
    "resultQuality",
    "validTime",
    "parameters",
)

#: The entity sets in the order of the service document.
ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (
        THINGS,
        LOCATIONS,
        HISTORICAL_LOCATIONS,
        DATASTREAMS,
        SENSORS,
        OBSERVED_PROPERTIES,
        OBSERVATIONS,
        FEATURES_OF_INTEREST,
    )
}

#: "Thing" → THINGS: a to-one navigation names the singular.
BY_SINGULAR: dict[str, EntitySet] = {s.singular: s for s in ENTITY_SETS.values()}
