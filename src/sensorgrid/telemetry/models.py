"""Time series storage.

The sample, rollup and latest tables carry no foreign-key constraints: the ingest
path resolves node and quantity ids itself, and a constraint check per row would
cost more than the insert. Deleting a node removes its rows through a signal.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from sensorgrid.inventory.models import Node, Quantity
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet


class Series(models.Model):
    """A node's quantity: the key that every time-series table starts with."""

    node = models.ForeignKey(
        Node, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    quantity = models.ForeignKey(
        Quantity, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )

    class Meta:
        abstract = True


class Sample(Series):
    """One value of one quantity measured by one node at one instant.

    The primary key (node, quantity, ts) makes a repeated message change nothing.
    On PostgreSQL the table is range-partitioned by month (migration 0002).
    """

    pk = models.CompositePrimaryKey("node_id", "quantity_id", "ts")
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        db_table = "telemetry_sample"

    def __str__(self) -> str:
        return f"node {self.node_id} q{self.quantity_id} {self.ts:%Y-%m-%d %H:%M:%S} {self.value:g}"


class Resolution(models.IntegerChoices):
    HOUR = 3600, "hour"
    DAY = 86400, "day"


class Rollup(Series):
    """count, sum, min and max of a node's quantity over one hour or one UTC day."""

    pk = models.CompositePrimaryKey("node_id", "quantity_id", "resolution", "bucket")
    resolution = models.IntegerField(choices=Resolution.choices)
    bucket = models.DateTimeField()
    count = models.BigIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()

    class Meta:
        db_table = "telemetry_rollup"

    def __str__(self) -> str:
        return f"node {self.node_id} q{self.quantity_id} {self.bucket:%Y-%m-%d %H:%M} ×{self.count}"


class Latest(Series):
    """The newest value of each quantity of each node, kept by the batch writer."""

    pk = models.CompositePrimaryKey("node_id", "quantity_id")
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        db_table = "telemetry_latest"

    def __str__(self) -> str:
        return f"node {self.node_id} q{self.quantity_id} {self.value:g} @{self.ts:%Y-%m-%d %H:%M}"


class ReceptionQuerySet(TenantQuerySet):
    org_lookup = "node__organization"


class Reception(models.Model):
    """One gateway hearing one LoRaWAN uplink of a node: radio diagnostics.

    Unique per (node, ts, gateway), so a repeated uplink adds nothing; the unique
    index also serves the node's receptions by time. Unlike samples, few enough rows
    for a foreign key (one per gateway and uplink, not per value).
    """

    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="receptions", db_index=False
    )
    ts = models.DateTimeField(help_text="When the uplink was received.")
    gateway_id = models.CharField(max_length=100, help_text="The network server's gateway id.")
    rssi = models.FloatField(null=True, blank=True, help_text="dBm")
    snr = models.FloatField(null=True, blank=True, help_text="dB")
    frequency = models.BigIntegerField(null=True, blank=True, help_text="Hz")
    spreading_factor = models.PositiveSmallIntegerField(null=True, blank=True)
    frame_counter = models.BigIntegerField(null=True, blank=True, help_text="FCnt")
    # Where the device was when it sent the uplink, if the message said (TTS
    # ``locations``, decoded latitude/longitude): the coverage map uses it, else the
    # node's installation (telemetry.coverage).
    latitude = models.FloatField(null=True, blank=True, help_text="The device's, if known.")
    longitude = models.FloatField(null=True, blank=True, help_text="The device's, if known.")

    objects = ReceptionQuerySet.as_manager()

    class Meta:
        ordering = ["-ts", "gateway_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "ts", "gateway_id"], name="reception_node_ts_gateway"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway_id} heard node {self.node_id} {self.ts:%Y-%m-%d %H:%M:%S}"


class GatewayQuerySet(TenantQuerySet):
    """Members only: radio diagnostics are not published by public installations."""


class Gateway(models.Model):
    """A LoRaWAN gateway as one organization's receptions know it.

    One row per organization and gateway id: the same gateway heard by two
    organizations' nodes is two rows, so neither learns about the other's devices.
    Kept by the ingest after each batch commits (``telemetry.gateways.record``):
    first and last reception and the last position the network server reported.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    gateway_id = models.CharField(max_length=100, help_text="The network server's gateway id.")
    name = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    located_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the reception that reported the position."
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    objects = GatewayQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen", "gateway_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "gateway_id"], name="gateway_organization_id"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.gateway_id


class Reason(models.TextChoices):
    MALFORMED = "malformed", "Payload cannot be parsed"
    UNKNOWN_DEVICE = "unknown-device", "No node has this device id"
    AMBIGUOUS_DEVICE = "ambiguous-device", "Nodes of several organizations have this device id"
    FORBIDDEN_DEVICE = "forbidden-device", "The credential may not write for this device"
    UNKNOWN_QUANTITY = "unknown-quantity", "Quantity not in the registry"
    INVALID_VALUE = "invalid-value", "Value is not a finite number"
    OUT_OF_RANGE = "out-of-range", "Value outside the quantity's plausible range"
    BAD_TIMESTAMP = "bad-timestamp", "Timestamp missing, unparsable, in the future or too old"
    DECODER_ERROR = "decoder-error", "The decoder failed"
    DEVICE_ERROR = "device-error", "The device reported a measurement error"
    #: a message the database refused to store through no fault of its decoder (a
    #: constraint, a trigger, a permission): replay it once the database is fixed
    DATABASE_ERROR = "database-error", "The database refused to store it"
    #: decoded without a value and without a refusal (a frame of types its codec does
    #: not read, an empty ``values``): kept so it is never counted as stored (issue 18)
    NO_VALUES = "no-values", "The message carried no value"
    #: an operator suspended the node's organization (tenancy): replay after unsuspending
    ORGANIZATION_SUSPENDED = "organization-suspended", "The node's organization is suspended"
    #: device images (issue 23, images app): refused before anything is decoded or stored
    TOO_LARGE = "too-large", "The picture exceeds the byte or pixel limit"
    UNSUPPORTED_IMAGE = "unsupported-image", "Not a JPEG, PNG or WebP picture, or a broken one"


class Source(models.TextChoices):
    HTTP = "http", "HTTP"
    MQTT = "mqtt", "MQTT"
    LORAWAN = "lorawan", "LoRaWAN"


class Credential(models.TextChoices):
    """What authenticated a message: its dead letter is replayed with that authority."""

    NODE = "node", "Node credential"
    INGEST_KEY = "ingest-key", "Organization ingest key"
    MQTT_ROUTE = "mqtt-route", "MQTT route of an organization"


class DeadLetterQuerySet(TenantQuerySet):
    """Scoped like everything else: members see their organizations' letters.

    Only superusers (platform operators) see and replay every dead letter, also those
    no organization can claim (``for_user`` gives them all rows). ``is_staff`` is just
    the key to the admin and grants nothing across organizations.
    """


class DeadLetter(models.Model):
    """A message (or the part of one) that could not be stored, kept with the reason."""

    received_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    topic = models.CharField(max_length=500, help_text="MQTT topic or HTTP endpoint.")
    decoder = models.SlugField(max_length=50)
    content_type = models.CharField(max_length=100, blank=True)
    payload = models.BinaryField()
    reason = models.CharField(max_length=30, choices=Reason.choices, db_index=True)
    detail = models.TextField(blank=True)
    device_id = models.CharField(max_length=200, blank=True, db_index=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    node = models.ForeignKey(
        Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="dead_letters"
    )
    replay_count = models.PositiveIntegerField(default=0)
    replayed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a replay stored the message."
    )
    # The sender's authority, so a replay has exactly it (a node credential stays
    # limited to its node). Ids, not foreign keys: a deleted credential must not
    # turn into a wider one. Blank for unbound MQTT routes and letters from before.
    credential = models.CharField(max_length=20, choices=Credential.choices, blank=True)
    credential_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Identical refusals (same sender, reason, device, detail and payload) are counted
    # on one open letter instead of being stored again (ingest.filing).
    count = models.PositiveIntegerField(default=1, help_text="How many times it was refused.")
    last_received_at = models.DateTimeField(
        db_index=True, help_text="When it was last refused; retention counts from here."
    )
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    objects = DeadLetterQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(
                fields=["reason", "received_at"],
                name="deadletter_open",
                condition=Q(resolved_at__isnull=True),
            ),
            models.Index(
                fields=["fingerprint"],
                name="deadletter_open_fingerprint",
                condition=Q(resolved_at__isnull=True),
            ),
            # A node's letters, newest first: its Dead letters tab and Connect panel.
            models.Index(fields=["node", "-received_at"], name="deadletter_node_newest"),
            # The letters of a device id in an organization, whatever its case (Connect
            # panel: a letter that names the device but found no node), and those its
            # node credential sent.
            models.Index("organization", Upper("device_id"), name="deadletter_org_device"),
            models.Index(
                fields=["credential_id"],
                name="deadletter_node_credential",
                condition=Q(credential="node"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.source} {self.reason}"
