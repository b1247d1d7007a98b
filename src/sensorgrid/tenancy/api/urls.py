from rest_framework.routers import SimpleRouter

from sensorgrid.tenancy.api import views

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = router.urls
