"""Who is asking: ``Authorization: Token <key>``, ``Basic`` or the browser's session.

STA clients (frost-sta-client, QGIS) send Basic credentials, scripts the API's tokens, a
signed-in browser its session cookie. Token and Basic requests carry their credentials
in every request, so they need no CSRF protection; a session is checked for CSRF on
every method that writes, as the rest of the API does.

Basic takes the password or an API token of that user as password. Checking a password
costs a deliberate ~0.3 s (the hasher), which a client paging through Observations
would pay per request; so a Basic credential that was right is remembered for
``BASIC_CACHE_SECONDS`` in the cache, under a keyed digest of username and password,
next to the user's password hash: a changed password or a deactivated user misses.
Failed Basic logins count towards django-axes' lockout like every other login.
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework.exceptions import AuthenticationFailed

from sensorgrid.accounts.authentication import ApiTokenAuthentication
from sensorgrid.accounts.models import KEY_PREFIX, ApiToken
from sensorgrid.sensorthings.errors import StaError

BASIC_CACHE_SECONDS = 300
#: The challenge of a 401 (FROST answers requests without credentials the same way).
CHALLENGE = 'Basic realm="SensorGrid SensorThings API", Token'
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthorized(StaError):
    """401: no usable credentials; the response carries ``WWW-Authenticate``."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message)


@dataclass(frozen=True, slots=True)
class Identity:
    user: object  # a User, or AnonymousUser
    #: "token", "basic", "session" or "" (anonymous)
    method: str

    @property
    def is_anonymous(self) -> bool:
        return not self.method


def identify(request: HttpRequest) -> Identity:
    """The user behind ``request``; raises ``Unauthorized`` for wrong credentials and
    ``StaError(403)`` for a session write without a valid CSRF token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "token":
        return Identity(_token_user(request), "token")
    if scheme == "basic":
        return Identity(_basic_user(request, credentials.strip()), "basic")
    if header:
        raise Unauthorized("Unsupported Authorization scheme: use Token or Basic.")
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if request.method in UNSAFE_METHODS:
            _check_csrf(request)
        return Identity(user, "session")
    from django.contrib.auth.models import AnonymousUser

    return Identity(AnonymousUser(), "")


def _token_user(request: HttpRequest):
    try:
        found = ApiTokenAuthentication().authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed as exc:
        raise Unauthorized(str(exc.detail)) from None
    if found is None:
        raise Unauthorized("Invalid token header: Token <key>.")
    return found[0]


def _basic_user(request: HttpRequest, credentials: str):
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized("Invalid Basic credentials: not base64 of username:password.") from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise Unauthorized("Invalid Basic credentials: not base64 of username:password.")
    if "\x00" in decoded:
        raise Unauthorized("Invalid username or password.")
    if password.startswith(KEY_PREFIX):
        token = ApiToken.objects.find(password)
        if token is not None and token.user.get_username() == username:
            if not token.user.is_active:
                raise Unauthorized("User inactive or deleted.")
            token.touch()
            return token.user
    key = _cache_key(username, password)
    remembered = cache.get(key)
    if remembered is not None:
        user_pk, password_hash = remembered
        user = get_user_model()._default_manager.filter(pk=user_pk, is_active=True).first()
        if user is not None and user.password == password_hash:
            return user
        cache.delete(key)
    try:
        user = django_authenticate(request, username=username, password=password)
    except PermissionDenied:  # django-axes: locked out
        from sensorgrid.accounts.lockout import message

        raise StaError(429, message()) from None
    if user is None or not user.is_active:
        raise Unauthorized("Invalid username or password.")
    cache.set(key, (user.pk, user.password), BASIC_CACHE_SECONDS)
    return user


def _cache_key(username: str, password: str) -> str:
    secret = settings.SECRET_KEY.encode()
    mac = hmac.new(secret, f"{username}\x00{password}".encode(), hashlib.sha256).hexdigest()
    return f"sensorthings:basic:{mac}"


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _check_csrf(request: HttpRequest) -> None:
    nothing: Any = lambda r: None  # noqa: E731 (the check never calls a view)
    check = _CsrfCheck(nothing)
    check.process_request(request)
    reason = check.process_view(request, nothing, (), {})
    if reason:
        raise StaError(403, f"CSRF check failed: {reason}")
