from django.urls import path
from rest_framework.routers import SimpleRouter

from sensorgrid.boards.api import views

router = SimpleRouter()
router.register("boards", views.BoardViewSet, basename="board")
router.register("board-shares", views.BoardShareViewSet, basename="boardshare")

urlpatterns = [
    *router.urls,
    path("shared-boards/<str:token>/", views.SharedBoardView.as_view(), name="shared-board"),
    path(
        "shared-boards/<str:token>/panels/<str:panel>/",
        views.SharedPanelView.as_view(),
        name="shared-board-panel",
    ),
]
