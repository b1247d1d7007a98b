"""The view at ``/api/v1/``: links to the collections of the apps' routers.

The apps' URL modules are included by the project's ``urls.py``, which hands their
routers to :func:`root_view`; this package imports no app (docs/architecture.md).
"""

from collections.abc import Callable, Iterable

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import BaseRouter


def root_view(routers: Iterable[BaseRouter], named: Iterable[str] = ()) -> Callable[..., Response]:
    """The root view: the URL names in ``named`` first, then every router's list views."""
    routers = list(routers)
    named = list(named)

    @extend_schema(exclude=True)
    @api_view(["GET"])
    @permission_classes([AllowAny])
    def api_root(request: Request, format: str | None = None) -> Response:
        """The resources of the SensorGrid API."""
        links = {name: reverse(name, request=request, format=format) for name in named}
        for router in routers:
            for prefix, _viewset, basename in router.registry:
                links[prefix] = reverse(f"{basename}-list", request=request, format=format)
        return Response(links)

    return api_root
