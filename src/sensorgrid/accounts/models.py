"""User API tokens: stored as a SHA-256 digest, shown once, expiring, revocable.

A key is 240 random bits, so one unsalted SHA-256 is enough: nobody can invert it or
guess a key from a stolen table, and the digest is what the lookup index holds.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

#: Keys start with this, so that secret scanners and people recognise them.
KEY_PREFIX = "sg_"
#: Characters of a key kept in clear (the prefix and a few random ones) to recognise it.
SHOWN_CHARACTERS = 10
#: last_used_at is written at most this often per token, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def default_expiry():
    days = settings.SENSORGRID_TOKEN_TTL_DAYS
    return timezone.now() + timedelta(days=days) if days > 0 else None


class ApiTokenQuerySet(models.QuerySet):
    def issue(self, user, name: str, key: str | None = None) -> tuple["ApiToken", str]:
        """A new token of ``user``; returns it with its key, which is never stored."""
        key = key or KEY_PREFIX + secrets.token_urlsafe(30)
        # Expired tokens of this user are of no use to anyone: drop them on the way.
        self.filter(user=user, expires_at__lte=timezone.now()).delete()
        token = self.create(
            user=user,
            name=name,
            prefix=key[:SHOWN_CHARACTERS],
            digest=digest(key),
            expires_at=default_expiry(),
        )
        return token, key

    def find(self, key: str) -> "ApiToken | None":
        """The live token with this key, or None (unknown, expired or revoked)."""
        token = self.select_related("user").filter(digest=digest(key)).first()
        if token is None or token.is_expired:
            return None
        return token

    def revoke_all(self, user) -> int:
        return self.filter(user=user).delete()[0]


class ApiToken(models.Model):
    """One named API key of a user (`Authorization: Token <key>`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=SHOWN_CHARACTERS, help_text="The key's first characters.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
