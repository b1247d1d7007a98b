from rest_framework.routers import SimpleRouter

from sensorgrid.inventory.api import views

router = SimpleRouter()
router.register("quantities", views.QuantityViewSet, basename="quantity")
router.register("sites", views.SiteViewSet, basename="site")
router.register("rooms", views.RoomViewSet, basename="room")
router.register("node-models", views.NodeModelViewSet, basename="nodemodel")
router.register("nodes", views.NodeViewSet, basename="node")
router.register("installations", views.InstallationViewSet, basename="installation")

urlpatterns = router.urls
