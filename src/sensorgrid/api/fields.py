from rest_framework import serializers

from sensorgrid.tenancy.scoping import Action


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation that accepts only ids the requesting user may see.

    A foreign id gets the same "does not exist" error as an unknown one, so the API
    never confirms that another tenant's object exists.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return queryset.for_user(user, Action.VIEW)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)
