"""POST auth/token/ (password → a new key) and auth/tokens/ (list, revoke your own)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sensorgrid.accounts import lockout
from sensorgrid.accounts.api.serializers import (
    ApiTokenSerializer,
    IssuedTokenSerializer,
    TokenRequestSerializer,
)
from sensorgrid.accounts.models import ApiToken

LOCKED_OUT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Too many failed logins for this account or from this address: "
    "`detail` says how long to wait (also in `Retry-After`).",
)


class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token (`Authorization: Token <key>`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    renderer_classes = [renderers.JSONRenderer]

    @extend_schema(
        summary="Get an API token",
        description=(
            "Checks the username and password and issues a new token. The key (`token`) "
            "is shown in this answer only; the server keeps a digest of it. It expires "
            "after SENSORGRID_TOKEN_TTL_DAYS and ends when the password changes. Failed "
            "attempts count towards the login lockout of the account and the address."
        ),
        request=TokenRequestSerializer,
        responses={200: IssuedTokenSerializer, 429: LOCKED_OUT},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        valid = serializer.is_valid()
        # axes flags the request it saw fail past the limit (right password or not).
        if getattr(request, "axes_locked_out", False):
            return lockout.lockout_response(request)
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, key = ApiToken.objects.issue(
            serializer.validated_data["user"], serializer.validated_data["name"]
        )
        return Response(IssuedTokenSerializer(token, context={"key": key}).data)


@extend_schema_view(
    list=extend_schema(
        summary="List your API tokens",
        description="Name, first characters, creation, last use and expiry; never the key.",
    ),
    retrieve=extend_schema(summary="One of your API tokens"),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="It stops working at once. Other users' tokens are not found (404).",
    ),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema has no user
            return ApiToken.objects.none()
        # Only one's own: another user's token is simply not found (404).
        return ApiToken.objects.filter(user=self.request.user)
