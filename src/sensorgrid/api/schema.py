"""The OpenAPI schema declares the error responses of docs/api.md, not just the 2xx.

drf-spectacular documents only the success response; without the errors a client
(or a schema fuzzer) cannot tell a documented refusal from a bug.
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

WRITES = ("POST", "PUT", "PATCH", "DELETE")
MODEL_WRITES = ("create", "update", "partial_update", "destroy")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong.")


# Field names as keys (or non_field_errors / detail), each with messages.
VALIDATION_ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Invalid input; the keys name the offending fields."
)


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in self.error_responses().items():
            # An explicit @extend_schema(responses=…) for the code wins.
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), direction=direction
                )
        return responses

    def error_responses(self) -> dict[int, OpenApiResponse]:
        """The errors of docs/api.md that this operation can answer."""
        view, method = self.view, self.method
        has_body = method in ("POST", "PUT", "PATCH") and bool(self.get_request_serializer())
        is_list = self._is_list_view()
        errors: dict[int, OpenApiResponse] = {}
        if has_body or is_list:  # invalid body, or invalid filter values
            errors[400] = VALIDATION_ERROR
        if view.authentication_classes:
            errors[401] = _error("Not signed in (for a write), or an unknown token.")
        if method in WRITES and view.permission_classes:
            errors[403] = _error("You may see this but not change it.")
        if "{" in self.path or (is_list and getattr(view, "pagination_class", None)):
            errors[404] = _error("No such object visible to you, or a page past the end.")
        if getattr(view, "action", None) in MODEL_WRITES:
            errors[409] = _error("Conflicts with existing data, or is still in use.")
        if has_body:
            errors[413] = _error("Request body too large.")
            errors[415] = _error("Content-Type missing or not JSON, form or multipart data.")
        if view.throttle_classes:
            errors[429] = _error("Too many requests; retry later.")
        return errors


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)
