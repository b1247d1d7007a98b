from django.urls import path
from rest_framework.routers import SimpleRouter

from sensorgrid.tenancy.api import views
from sensorgrid.tenancy.api.invitation_accept import InvitationAcceptView

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("invitations", views.InvitationViewSet, basename="invitation")

# Before the router's `invitations/<pk>/`, which would take "accept" for an id.
urlpatterns = [
    path("invitations/accept/", InvitationAcceptView.as_view(), name="invitation-accept"),
    *router.urls,
]
