import math
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from sensorgrid import storable
from sensorgrid.inventory import codec_keys, credentials, device_ids
from sensorgrid.tenancy import scoping
from sensorgrid.tenancy.models import Organization
from sensorgrid.tenancy.scoping import TenantQuerySet


def public_installations() -> "InstallationQuerySet":
    """Installations that publish their room, site, organization name and data.

    What makes a site or a room visible to everybody (``public_q`` below); the model is
    looked up when called, so the querysets above ``Installation`` can use it.
    """
    return Installation.objects.filter(is_public=True)


def finite(value: float) -> None:
    if value is not None and not math.isfinite(value):
        raise ValidationError("Must be a finite number.")


def no_nul_characters(value) -> None:
    """PostgreSQL cannot store U+0000 or a lone surrogate in text or jsonb; refuse them
    on every database, in keys too. (Named for the first of the two: migrations refer to
    it.) A form or multipart field holding JSON text reaches here parsed, past the
    request's own checks, which see only the escapes (``\\ud800``) as plain text."""
    found = storable.find_in_json(value)
    if found is not None:
        where, message = found
        raise ValidationError(f"{message} (at {where})" if where else message)


class Quantity(models.Model):
    """A measurable quantity in the global registry (seeded by a migration)."""

    key = models.SlugField(max_length=50, unique=True, help_text="e.g. co2, temperature, pm2_5")
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=20, blank=True)
    min_value = models.FloatField(
        null=True, blank=True, validators=[finite], help_text="Lowest plausible value."
    )
    max_value = models.FloatField(
        null=True, blank=True, validators=[finite], help_text="Highest plausible value."
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "quantities"

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name

    def clean(self) -> None:
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValidationError({"max_value": "Must not be below min_value."})


class SiteQuerySet(TenantQuerySet):
    def public_q(self) -> Q:
        return Q(pk__in=public_installations().values("room__site_id"))


class Site(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class RoomQuerySet(TenantQuerySet):
    org_lookup = "site__organization"

    def public_q(self) -> Q:
        return Q(pk__in=public_installations().values("room_id"))


class Room(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=200)
    area = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), finite], help_text="Area in m²."
    )
    height = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), finite], help_text="Height in m."
    )
    max_occupancy = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(1_000_000)]
    )
    floor = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-20), MaxValueValidator(300)],
        help_text="Storey: 0 the ground floor, 1 the first upper floor, -1 the first basement.",
    )
    # Said, not guessed: the indoor-air traffic light and CO2 bands judge indoor rooms
    # only. (Until migration 0012 a height of 0 stood for "outdoors".)
    outdoor = models.BooleanField(
        default=False,
        help_text="An outdoor place (a schoolyard, a roof terrace): indoor-air limits "
        "such as the CO2 traffic light do not apply.",
    )

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["site_id", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.site} / {self.name}"

    @property
    def organization_id(self) -> int:
        return self.site.organization_id

    @property
    def floor_label(self) -> str:
        """The storey as people say it: "ground floor", "floor 2", "basement 1"."""
        if self.floor is None:
            return ""
        if self.floor == 0:
            return "ground floor"
        return f"floor {self.floor}" if self.floor > 0 else f"basement {-self.floor}"


class Protocol(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    HTTP = "http", "HTTP"
    LORAWAN = "lorawan", "LoRaWAN"
    OTHER = "other", "Other"


class NodeModelQuerySet(TenantQuerySet):
    def public_q(self) -> Q:
        # Models without an organization form the shared catalogue.
        return Q(organization__isnull=True)

    def shared_q(self) -> Q:
        # Any owner's node may use a catalogue model; only administrators change it.
        return Q(organization__isnull=True)


def validate_codec(key: str) -> None:
    """A codec key must name a registered codec (issue 18, item 3); the error lists them.

    The keys come from the ingest library's registry, a layer above, through
    ``codec_keys`` (filled in by ingest's ``ready()``).
    """
    if key and key not in (known := codec_keys.known()):
        raise ValidationError(f"{key!r} is no codec; known: {', '.join(known)}.", code="invalid")


class NodeModel(models.Model):
    """A kind of device: what it measures, how it talks and how to decode it."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="node_models",
        null=True,
        blank=True,
        help_text="Empty for the shared catalogue (managed by administrators).",
    )
    manufacturer = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    protocol = models.CharField(max_length=20, choices=Protocol.choices, default=Protocol.MQTT)
    codec = models.SlugField(
        max_length=50,
        blank=True,
        validators=[validate_codec],
        help_text="Key of the codec that reads the devices' binary LoRaWAN frames, e.g. "
        "elsys, cayenne_lpp (docs/codecs.md). Empty: the network server decodes them.",
    )
    quantities = models.ManyToManyField(Quantity, blank=True, related_name="node_models")
    sampling_interval = models.PositiveIntegerField(
        default=300,
        validators=[MinValueValidator(1), MaxValueValidator(31 * 86400)],
        help_text="Expected seconds between two messages.",
    )

    objects = NodeModelQuerySet.as_manager()

    class Meta:
        ordering = ["manufacturer", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.name}"


device_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*\Z",
    "Use letters, digits and _ . : - only (it appears in MQTT topics), starting with a "
    "letter or digit.",
)


class NodeStatus(models.TextChoices):
    """Whether a node delivers as expected (docs/operations.md, "Device health")."""

    UNKNOWN = "UNKNOWN", "unknown (never sent anything)"
    ALIVE = "ALIVE", "alive"
    MISSING = "MISSING", "missing"
    DEAD = "DEAD", "dead"


class NodeQuerySet(TenantQuerySet):
    def readable_by(self, user, now: datetime | None = None) -> "NodeQuerySet":
        """Nodes whose values ``user`` may read at ``now``: his organizations' (``for_user``)
        and, for everybody, those an active public installation publishes.

        ``for_user`` stays members-only: a public installation publishes a node's values,
        not the node itself (device id, credentials, settings).
        """
        if scoping.sees_everything(user):
            return self.all()
        published = Installation.objects.active(now).filter(is_public=True).values("node_id")
        return self.for_user(user) | self.filter(pk__in=published)


def public_label(alias: str, pk: int) -> str:
    """A node's name for readers outside its organization: its alias, else "Device <id>".

    A public installation publishes the node's values, not the node: its device id is in
    MQTT topics and stays with the members (``str(node)`` falls back to it).
    """
    return alias or f"Device {pk}"


FOREIGN_DEVICE_ID = (
    "This device id is registered by another organization; a node keeps its id or "
    "takes one no other organization has (ask an operator if the device is yours)."
)


def foreign_device_id(node: "Node | None", organization_id: int | None, device_id: str) -> bool:
    """True if changing ``node``'s id to ``device_id`` takes an id that a node of another
    organization holds (ignoring case). A new node may share one (it gets no topics of the
    unbound MQTT routes, whose owner is the id's first node); a renamed older node would
    become that first node and take the other organization's topics and messages."""
    if node is None or node.pk is None or node.device_id.lower() == device_id.lower():
        return False
    others = Node.objects.filter(device_id__iexact=device_id)
    return others.exclude(organization_id=organization_id).exclude(pk=node.pk).exists()


class Node(models.Model):
    """One physical device, identified by its device id (often a LoRaWAN DevEUI)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="nodes")
    # Unique per organization, ignoring case (Meta); a DevEUI is kept in lower case.
    device_id = models.CharField(max_length=64, db_index=True, validators=[device_id_validator])
    alias = models.CharField(max_length=200, blank=True)
    model = models.ForeignKey(
        NodeModel, on_delete=models.RESTRICT, related_name="nodes", null=True, blank=True
    )
    metadata = models.JSONField(default=dict, blank=True, validators=[no_nul_characters])
    sampling_interval = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31 * 86400)],
        help_text="Overrides the model's expected seconds between messages.",
    )
    credential_digest = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=10,
        choices=NodeStatus.choices,
        default=NodeStatus.UNKNOWN,
        editable=False,
        db_index=True,
        help_text="Kept by the worker's fidelity task from last_seen and the interval.",
    )
    status_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NodeQuerySet.as_manager()

    class Meta:
        ordering = ["device_id"]
        constraints = [
            models.UniqueConstraint(
                Lower("device_id"),
                "organization",
                name="node_device_id_per_organization",
                violation_error_message="This organization already has a node with this "
                "device id (device ids ignore case).",
            )
        ]

    def __str__(self) -> str:
        return self.alias or self.device_id

    def save(self, *args, **kwargs) -> None:
        self.device_id = device_ids.canonical(self.device_id)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.device_id = device_ids.canonical(self.device_id)  # before the constraint check
        if self.pk is not None:
            stored = Node.objects.filter(pk=self.pk).first()
            if foreign_device_id(stored, self.organization_id, self.device_id):
                raise ValidationError({"device_id": FOREIGN_DEVICE_ID})
        model = self.model  # None without a query when no model is set
        if model is not None and model.organization_id not in (None, self.organization_id):
            raise ValidationError({"model": "This node model belongs to another organization."})

    def public_label(self) -> str:
        """What the node is called for somebody outside its organization (a public
        installation's visitor): ``public_label``."""
        return public_label(self.alias, self.pk)

    def issue_credential(self) -> str:
        """Create a new ingest credential, keep its digest, return it (shown once).

        The plaintext also stays on the instance until its next save, for the broker
        outbox (brokerauth/receivers.py): the broker needs it, the database keeps a digest.
        """
        credential = credentials.new_credential()
        self.credential_digest = credentials.digest(credential)
        self._issued_credential = credential
        return credential

    def check_credential(self, credential: str) -> bool:
        return credentials.matches(credential, self.credential_digest)

    @property
    def broker_username(self) -> str:
        """The node's MQTT username: stable (a rename or a new device id keeps it) and
        unique across organizations, because it is formed from the primary key."""
        return f"node-{self.pk}"

    @property
    def expected_interval(self) -> int:
        if self.sampling_interval:
            return self.sampling_interval
        model = self.model  # None without a query when no model is set
        return model.sampling_interval if model is not None else 300


class InstallationQuerySet(TenantQuerySet):
    org_lookup = "node__organization"

    def public_q(self) -> Q:
        return Q(is_public=True)

    def active(self, now: datetime | None = None) -> "InstallationQuerySet":
        """Installations in place at ``now`` (default: now): begun and not yet ended."""
        now = now or timezone.now()
        return self.filter(start__lte=now).filter(Q(end__isnull=True) | Q(end__gt=now))

    def overlapping(self, node, start, end, exclude_pk=None) -> "InstallationQuerySet":
        """Installations of ``node`` whose [start, end) period intersects the given one."""
        qs = self.filter(node=node).filter(Q(end__isnull=True) | Q(end__gt=start))
        if end is not None:
            qs = qs.filter(start__lt=end)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        return qs


class Installation(models.Model):
    """A node placed in a room for a period [start, end); end empty means still there."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="installations")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="installations")
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    is_public = models.BooleanField(
        default=False,
        help_text="Publishes the room, site, organization name and this period's data.",
    )

    objects = InstallationQuerySet.as_manager()

    class Meta:
        ordering = ["node_id", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")),
                name="installation_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.node} in {self.room} from {self.start:%Y-%m-%d}"

    def clean(self) -> None:
        node = self.node if self.node_id else None
        room = self.room if self.room_id else None
        errors = installation_errors(node, room, self.start, self.end, self.pk)
        if errors:
            raise ValidationError(errors)


def installation_errors(node, room, start, end, exclude_pk=None) -> dict[str, str]:
    """Why an installation of ``node`` in ``room`` for [start, end) is not possible."""
    errors: dict[str, str] = {}
    if start is not None and end is not None and end <= start:
        errors["end"] = "Must be after start."
    if node is not None and room is not None and node.organization_id != room.site.organization_id:
        errors["room"] = "The room belongs to another organization than the node."
    if not errors and node is not None and start is not None:
        clash = Installation.objects.overlapping(node, start, end, exclude_pk).first()
        if clash is not None:
            errors["start"] = (
                f"Node {node.device_id} is already installed in {clash.room} from "
                f"{clash.start.isoformat()} to {clash.end.isoformat() if clash.end else 'now'} "
                f"(installation {clash.pk}); periods must not overlap."
            )
    return errors
