"""What every management page does alike: render a form page, confirm a deletion."""

from collections.abc import Callable

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from sensorgrid.dashboard.manage.access import require_change


def form_page(
    request: HttpRequest,
    form,
    *,
    title: str,
    submit: str,
    cancel: str,
    crumbs: list[tuple[str, str]],
    intro: str = "",
) -> HttpResponse:
    """A page with one management form (``manage/form.html``)."""
    context = {
        "form": form,
        "title": title,
        "submit": submit,
        "cancel": cancel,
        "crumbs": crumbs,
        "intro": intro,
    }
    return render(request, "dashboard/manage/form.html", context)


def confirm_delete(
    request: HttpRequest,
    obj: models.Model,
    *,
    kind: str,
    consequences: list[str],
    cancel: str,
    done: str | Callable[[], str],
) -> HttpResponse:
    """GET: what deleting ``obj`` takes with it, and a button; POST: delete it.

    Only owners reach either (``require_change``); the rows go in one transaction,
    rechecked inside it like every write of the API.
    """
    require_change(request.user, obj)
    if request.method == "POST":
        with transaction.atomic():
            require_change(request.user, obj)
            obj.delete()
        return redirect(done() if callable(done) else done)
    context = {"object": obj, "kind": kind, "consequences": consequences, "cancel": cancel}
    return render(request, "dashboard/manage/confirm_delete.html", context)
