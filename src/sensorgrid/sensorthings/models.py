"""What SensorThings needs beside SensorGrid's own tables (docs/sensorthings.md).

One store, not a copy: a Thing *is* a node (same id), an Observation of a numeric
Datastream *is* a sample. The tables here hold only what SensorGrid has no place for:

- the STA face of entities SensorGrid already has, with the fields STA adds and an id of
  their own: an ``ObservedProperty`` mirrors a ``Quantity``, a ``Sensor`` a ``NodeModel``,
  a ``Location`` a ``Site``, a ``HistoricalLocation`` an ``Installation`` (the link column
  is set and unique), or is created through STA (the link is empty);
- ``Datastream``: a node × quantity pair (``store`` = samples: its Observations are the
  samples of that series), or a stream created through STA for something that is not a
  registered quantity (``store`` = observations: its Observations are rows of
  ``Observation``, with results of every JSON type);
- ``SampleDetails``: what an Observation POSTed to a samples Datastream carries beyond
  time and value (parameters, resultTime, an interval's end…), keyed like the sample;
- ``FeatureOfInterest`` and ``Observation`` for the rest.

Every row belongs to one organization (``organization``), except the mirrors of the
shared catalogue (quantities, catalogue node models), whose organization is empty.
"""

from django.db import models
from django.db.models import Q

from sensorgrid.inventory.models import Installation, Node, NodeModel, Quantity, Site
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet


class SharedQuerySet(TenantQuerySet):
    """Rows of one organization, or (organization empty) mirrors of the shared catalogue."""

    def public_q(self) -> Q:
        return Q(organization__isnull=True)

    def shared_q(self) -> Q:
        return Q(organization__isnull=True)


class OrganizationQuerySet(TenantQuerySet):
    pass


class ThingQuerySet(TenantQuerySet):
    org_lookup = "node__organization"


class Thing(models.Model):
    """The STA fields of a node that the node has no column for; the Thing's id is the
    node's id, its name the node's alias (else its device id), its properties the node's
    metadata."""

    node = models.OneToOneField(
        Node, on_delete=models.CASCADE, primary_key=True, related_name="sta"
    )
    description = models.TextField(blank=True)
    #: The Thing's ``properties`` as written through STA. Not the node's metadata: a
    #: public installation makes the Thing readable by everybody, the metadata stays
    #: with the node's organization.
    properties = models.JSONField(null=True, blank=True)

    objects = ThingQuerySet.as_manager()

    class Meta:
        ordering = ["node_id"]

    def __str__(self) -> str:
        return f"Thing {self.node_id}"


class ObservedProperty(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    quantity = models.OneToOneField(
        Quantity, on_delete=models.CASCADE, null=True, blank=True, related_name="sta"
    )
    name = models.CharField(max_length=200)
    definition = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    properties = models.JSONField(null=True, blank=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Sensor(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    node_model = models.OneToOneField(
        NodeModel, on_delete=models.CASCADE, null=True, blank=True, related_name="sta"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=200, blank=True)
    #: A string or a JSON document (STA allows both).
    metadata = models.JSONField(null=True, blank=True)
    properties = models.JSONField(null=True, blank=True)

    objects = SharedQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="sta"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=200, blank=True)
    #: GeoJSON geometry (or Feature) as given.
    location = models.JSONField(null=True, blank=True)
    properties = models.JSONField(null=True, blank=True)
    #: Bounding box of ``location``, kept on save, for geospatial $filter on every database.
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    #: Things whose current Locations include this one through STA (a node's installation
    #: gives it its site's Location without a row here).
    things = models.ManyToManyField(Node, blank=True, related_name="sta_locations")

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class HistoricalLocation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="sta_historical_locations"
    )
    installation = models.OneToOneField(
        Installation, on_delete=models.CASCADE, null=True, blank=True, related_name="sta"
    )
    time = models.DateTimeField()
    locations = models.ManyToManyField(Location, blank=True, related_name="historical_locations")

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["node", "time"])]

    def __str__(self) -> str:
        return f"{self.node_id} at {self.time:%Y-%m-%d %H:%M}"


class Store(models.TextChoices):
    SAMPLES = "samples", "samples (numeric, a registered quantity)"
    OBSERVATIONS = "observations", "observations (any result type)"


class Datastream(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="sta_datastreams")
    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, related_name="datastreams")
    observed_property = models.ForeignKey(
        ObservedProperty, on_delete=models.CASCADE, related_name="datastreams"
    )
    #: Set for the samples store: the series (node, quantity) whose samples are the
    #: Observations.
    quantity = models.ForeignKey(
        Quantity, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    store = models.CharField(max_length=20, choices=Store.choices, default=Store.OBSERVATIONS)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    observation_type = models.CharField(max_length=200, blank=True)
    unit_of_measurement = models.JSONField(null=True, blank=True)
    observed_area = models.JSONField(null=True, blank=True)
    properties = models.JSONField(null=True, blank=True)
    #: Samples store: the FeatureOfInterest of the Observations that name none of their own
    #: (no ``SampleDetails``): generated from the Location of the site the node is (or was
    #: last) installed at, kept by ``mirror``.
    sample_feature = models.ForeignKey(
        "FeatureOfInterest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "quantity"],
                condition=Q(store="samples"),
                name="sta_one_samples_datastream_per_series",
            )
        ]

    def __str__(self) -> str:
        return self.name


class FeatureOfInterest(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    #: Set when generated from a Location (reused for the same Location).
    location = models.OneToOneField(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="feature"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    encoding_type = models.CharField(max_length=200, blank=True)
    feature = models.JSONField(null=True, blank=True)
    properties = models.JSONField(null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Observation(models.Model):
    """An Observation of an ``observations``-store Datastream (any JSON result)."""

    datastream = models.ForeignKey(
        Datastream, on_delete=models.CASCADE, related_name="observations"
    )
    feature_of_interest = models.ForeignKey(
        FeatureOfInterest, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    phenomenon_time = models.DateTimeField()
    phenomenon_time_end = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    result_time = models.DateTimeField(null=True, blank=True)
    valid_time_start = models.DateTimeField(null=True, blank=True)
    valid_time_end = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(null=True, blank=True)
    result_quality = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["datastream", "phenomenon_time"])]

    def __str__(self) -> str:
        return f"{self.datastream_id} at {self.phenomenon_time.isoformat()}"


class SampleDetails(models.Model):
    """Fields of an Observation stored as a sample that the sample has no column for."""

    pk = models.CompositePrimaryKey("node_id", "quantity_id", "ts")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    quantity = models.ForeignKey(Quantity, on_delete=models.CASCADE, related_name="+")
    ts = models.DateTimeField()
    feature_of_interest = models.ForeignKey(
        FeatureOfInterest, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    phenomenon_time_end = models.DateTimeField(null=True, blank=True)
    result_time = models.DateTimeField(null=True, blank=True)
    valid_time_start = models.DateTimeField(null=True, blank=True)
    valid_time_end = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(null=True, blank=True)
    result_quality = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.node_id}/{self.quantity_id} at {self.ts.isoformat()}"


class ObservationRow(models.Model):
    """Every Observation of both stores, as one relation: a database view (migration
    0002), so ``$filter``, ``$orderby`` and ``$count`` on Observations are one query.

    ``id`` is the Observation's ``@iot.id`` (``sensorgrid.sensorthings.ids``): the
    Datastream's id in the high bits, then the sample's time in milliseconds since 1970
    (samples store) or the ``Observation`` row's id (observations store). Look rows up
    by id through ``ids.decode``, which gives indexed columns; ``id`` itself is computed.
    """

    id = models.BigIntegerField(primary_key=True)
    datastream = models.ForeignKey(
        Datastream,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="observation_rows",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    feature_of_interest = models.ForeignKey(
        FeatureOfInterest,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="observation_rows",
    )
    #: The node of the Datastream (the Thing), in both stores: for the walls.
    thing_id = models.BigIntegerField(null=True)
    #: Samples store: the series and the sample's time (its primary key).
    node_id = models.BigIntegerField(null=True)
    quantity_id = models.BigIntegerField(null=True)
    #: Observations store: the ``Observation`` row.
    observation_id = models.BigIntegerField(null=True)
    phenomenon_time = models.DateTimeField()
    phenomenon_time_end = models.DateTimeField(null=True)
    #: A number result (every sample; numbers of the observations store too).
    result_number = models.FloatField(null=True)
    #: The observations store's result as stored (JSON of any type); null for samples.
    result = models.JSONField(null=True)
    result_time = models.DateTimeField(null=True)
    valid_time_start = models.DateTimeField(null=True)
    valid_time_end = models.DateTimeField(null=True)
    parameters = models.JSONField(null=True)
    result_quality = models.JSONField(null=True)

    class Meta:
        managed = False
        db_table = "sensorthings_observation_row"

    def __str__(self) -> str:
        return f"Observation {self.pk}"


class SampleRow(models.Model):
    """The samples-store half of ``ObservationRow`` alone (view ``sensorthings_sample_row``,
    migration 0004), same columns: one Datastream's Observations read through it with
    ``node_id`` and ``quantity_id`` given as constants (``observations.of_datastream``)
    come off the samples' primary-key index in time order, where the two-store view makes
    PostgreSQL sort every row of the range first (a UNION ALL of joins is not flattened).
    """

    id = models.BigIntegerField(primary_key=True)
    datastream = models.ForeignKey(
        Datastream, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    feature_of_interest = models.ForeignKey(
        FeatureOfInterest,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    thing_id = models.BigIntegerField(null=True)
    node_id = models.BigIntegerField(null=True)
    quantity_id = models.BigIntegerField(null=True)
    observation_id = models.BigIntegerField(null=True)
    phenomenon_time = models.DateTimeField()
    phenomenon_time_end = models.DateTimeField(null=True)
    result_number = models.FloatField(null=True)
    result = models.JSONField(null=True)
    result_time = models.DateTimeField(null=True)
    valid_time_start = models.DateTimeField(null=True)
    valid_time_end = models.DateTimeField(null=True)
    parameters = models.JSONField(null=True)
    result_quality = models.JSONField(null=True)

    class Meta:
        managed = False
        db_table = "sensorthings_sample_row"

    def __str__(self) -> str:
        return f"Observation {self.pk}"
