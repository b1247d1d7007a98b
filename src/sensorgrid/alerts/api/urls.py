from rest_framework.routers import SimpleRouter

from sensorgrid.alerts.api import views

router = SimpleRouter()
router.register("alert-channels", views.ChannelViewSet, basename="alertchannel")
router.register("alert-rules", views.AlertRuleViewSet, basename="alertrule")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
router.register("forwarders", views.ForwarderViewSet, basename="forwarder")

urlpatterns = router.urls
