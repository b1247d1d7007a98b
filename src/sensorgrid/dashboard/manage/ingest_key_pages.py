"""Ingest keys of an organization: create (the secret shown once), revoke.

An ingest key lets a gateway or a network server (TTN, ChirpStack webhooks) write for
every node of the organization. Like a node's credential, its secret is rendered in
the answer to the POST that made it, never cached, never stored (only its digest).
Revoking deletes the key: it stops working at once in this process and within
SENSORGRID_INGEST_CREDENTIAL_TTL in the others.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sensorgrid.dashboard.manage.access import member_object_or_404, require_change
from sensorgrid.dashboard.manage.organization_forms import IngestKeyForm
from sensorgrid.dashboard.manage.organization_pages import organization_of, render_organization
from sensorgrid.ingest.models import IngestKey


@never_cache
@login_required
@require_POST
def key_new(request, pk: int):
    organization = organization_of(request, pk)
    require_change(request.user, organization)
    form = IngestKeyForm(request.POST, request=request, organization=organization)
    if not form.is_valid():
        return render_organization(request, organization, status=400, key_form=form)
    key = form.save()
    context = {"key": key, "secret": form.key, "organization": organization}
    return render(request, "dashboard/manage/ingest_key.html", context)


@login_required
@require_POST
def key_revoke(request, pk: int):
    key = member_object_or_404(IngestKey.objects.select_related("organization"), request.user, pk)
    require_change(request.user, key)
    key.delete()  # the credential caches forget it (post_delete)
    messages.success(request, f"The ingest key “{key.name}” no longer works.")
    return redirect("dashboard:organization", pk=key.organization_id)
