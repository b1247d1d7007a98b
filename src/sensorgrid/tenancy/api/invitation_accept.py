"""``POST /api/v1/invitations/accept/``: joining an organization from an API client.

The same consent as the link's page in the dashboard (``tenancy.invitations``): the
signed-in account accepts an invitation addressed to its own e-mail address, once,
before it expires. The token is the last part of the link's path; the whole link is
accepted too, since that is what the mail holds.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sensorgrid.tenancy import invitations
from sensorgrid.tenancy.api.serializers import MembershipSerializer

UNUSABLE = "This invitation is unknown, used, withdrawn or expired."


class AcceptSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=500,
        trim_whitespace=True,
        help_text="The invitation's token (`sgi_…`, the last part of the link's path), "
        "or the whole link from the mail.",
    )

    def validate_token(self, value: str) -> str:
        token = value.rstrip("/").rsplit("/", 1)[-1]
        if not token.startswith(invitations.TOKEN_PREFIX):
            raise ValidationError(UNUSABLE)
        return token


class InvitationAcceptView(APIView):
    permission_classes = [IsAuthenticated]
    # A wrong token costs a lookup of its digest; the throttle of the login endpoints
    # keeps guessing (of 256-bit tokens) as slow as guessing passwords.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        summary="Accept an invitation",
        description="Join the organization an owner invited your e-mail address into, with "
        "the role of the invitation (a membership you already have keeps its role). The "
        "link works once, until it expires; an invitation sent to another address is "
        "refused, so a forwarded link adds nobody. Answers your membership.",
        request=AcceptSerializer,
        responses={
            200: MembershipSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The token is unknown, used, withdrawn or expired (one answer "
                "for all four).",
            ),
            403: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The invitation was sent to another e-mail address than your "
                "account's.",
            ),
        },
    )
    def post(self, request):
        given = AcceptSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            membership = invitations.accept(given.validated_data["token"], request.user)
        except invitations.InvitationUnusable:
            raise ValidationError({"token": [UNUSABLE]}) from None
        except PermissionError as refused:
            raise PermissionDenied(str(refused)) from None
        answer = MembershipSerializer(membership, context={"request": request})
        return Response(answer.data, status=status.HTTP_200_OK)
