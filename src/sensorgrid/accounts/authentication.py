"""`Authorization: Token <key>` against the hashed user tokens."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from sensorgrid.accounts.models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing, our table: a key is looked up by its digest."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.find(key)
        if token is None:
            raise AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        token.touch()
        return token.user, token
