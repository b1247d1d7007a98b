from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from sensorgrid.tenancy.scoping import Action


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation that accepts only ids the requesting user may *change* (or shared ones).

    Writing something into an organization, a site or a room needs the owner role
    there; seeing it (members, public installations) is not enough. A foreign id gets
    the same "does not exist" error as an unknown one, so the API never confirms that
    another tenant's object exists; an id the user may see but not change gets 403.
    """

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_queryset(self):
        return super().get_queryset().referable_by(self._user())

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            visible = super().get_queryset().for_user(self._user(), Action.VIEW)
            if self._is_id(data) and visible.filter(pk=int(data)).exists():
                # Many-relations bind their child under an empty name: use the parent's.
                name = self.field_name or getattr(self.parent, "field_name", "") or "object"
                message = (
                    f"You may see {name} {data} but not change it, nor put anything into it: "
                    "that needs the owner role in its organization."
                )
                raise PermissionDenied({"detail": message, name: [message]}) from None
            raise

    @staticmethod
    def _is_id(data) -> bool:
        return str(data).isdigit() and int(data) < 2**63
