"""Node models: the list (the user's organizations' own and the shared catalogue),
create and edit. Owners change their organizations' models; the shared catalogue is
the administrators' (read-only here for everybody else), as in the API.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from sensorgrid.dashboard.manage.access import (
    owned_organizations,
    require_change,
    require_some_organization,
)
from sensorgrid.dashboard.manage.node_model_forms import NodeModelForm
from sensorgrid.dashboard.manage.pages import form_page
from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.inventory.models import NodeModel
from sensorgrid.tenancy.scoping import Action, organization_ids

CRUMBS = [("Node models", "/node-models/")]


def visible_models(user):
    """The user's organizations' models and the shared catalogue (what nodes may use)."""
    own = NodeModel.objects.filter(organization_ids(user).q())
    return (own | NodeModel.objects.filter(organization__isnull=True)).distinct()


@login_required
def node_models_page(request):
    owned = organization_ids(request.user, Action.CHANGE)
    models = (
        visible_models(request.user)
        .select_related("organization")
        .prefetch_related("quantities")
        .order_by("organization__name", "manufacturer", "name", "pk")
    )
    rows = [
        {
            "model": m,
            "quantities": ", ".join(q.key for q in m.quantities.all()),
            "owner": m.organization_id in owned if m.organization_id else request.user.is_superuser,
        }
        for m in models
    ]
    context = {"rows": rows, "can_create": owned_organizations(request.user).exists()}
    return render(request, "dashboard/manage/node_models.html", context)


@login_required
def node_model_new(request):
    require_some_organization(request.user)
    form = NodeModelForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:node-models")
    return form_page(
        request,
        form,
        title="New node model",
        submit="Create node model",
        cancel=reverse("dashboard:node-models"),
        crumbs=CRUMBS,
        intro="A kind of device of your organization: what it measures, how it talks "
        "and which codec reads its frames. Nodes then name it as their model.",
    )


@login_required
def node_model_edit(request, pk: int):
    model = visible_or_404(visible_models(request.user), pk)
    require_change(request.user, model)
    form = NodeModelForm(request.POST or None, request=request, instance=model)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("dashboard:node-models")
    return form_page(
        request,
        form,
        title=f"Edit {model}",
        submit="Save node model",
        cancel=reverse("dashboard:node-models"),
        crumbs=CRUMBS,
    )
