"""Device credentials for HTTP ingest: ``Authorization: Bearer <node credential>``."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from sensorgrid.ingest.api import credential_cache
from sensorgrid.ingest.envelope import Authority
from sensorgrid.ingest.models import IngestKey
from sensorgrid.inventory import credentials
from sensorgrid.inventory.models import Node

SUSPENDED = (
    "organization suspended: an operator suspended this credential's organization, "
    "its devices are refused until it is unsuspended"
)


@dataclass(frozen=True)
class Device:
    """The authenticated sender of an ingest request (stands in for ``request.user``)."""

    authority: Authority
    credential_digest: str
    is_authenticated: bool = True
    #: a node credential's device id ("" for an ingest key), as of the credential's lookup
    device_id: str = ""


class IngestCredentialAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Device, str] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <credential>'.")
        try:
            credential = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid credential.") from None
        return device_of(credential), credential

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def device_of(credential: str) -> Device:
    """The sender a node credential or organization ingest key proves, for every HTTP
    ingest entry point (``Bearer`` here, InfluxDB's ``Token`` and ``u``/``p`` in
    ``influx.py``); raises AuthenticationFailed for an unknown one, PermissionDenied
    (403) for one of a suspended organization."""
    digest = credentials.digest(credential)
    trusted = credential_cache.trusted.get(digest) or _look_up(digest)
    if trusted.suspended:
        raise exceptions.PermissionDenied(SUSPENDED)
    if trusted.key_id is not None:
        _note_use(trusted.key_id)
    return Device(trusted.authority, digest, device_id=trusted.device_id)


def _look_up(digest: str) -> credential_cache.Trusted:
    fields = ("id", "organization_id", "organization__suspended_at")
    node = Node.objects.filter(credential_digest=digest).values(*fields, "device_id").first()
    if node is not None:
        authority = Authority(node["organization_id"], node["id"], "node", node["id"])
        trusted = credential_cache.Trusted(
            authority,
            suspended=node["organization__suspended_at"] is not None,
            device_id=node["device_id"],
        )
    else:
        key = IngestKey.objects.filter(digest=digest).values(*fields).first()
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid credential.")
        authority = Authority(key["organization_id"], None, "ingest-key", key["id"])
        trusted = credential_cache.Trusted(
            authority, key["id"], key["organization__suspended_at"] is not None
        )
    credential_cache.trusted.put(digest, trusted)
    return trusted


def _note_use(key_id: int) -> None:
    """Keep an ingest key's last_used_at: at most one write a minute per key."""
    now = timezone.now()
    IngestKey.objects.filter(pk=key_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(minutes=1))
    ).update(last_used_at=now)


class IngestCredentialScheme(OpenApiAuthenticationExtension):
    target_class = IngestCredentialAuthentication
    name = "IngestCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A node's ingest credential (shown once when the node is registered) or an "
                "organization's ingest key."
            ),
        }
