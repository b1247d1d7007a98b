"""Dead letters of my organizations: the list, one letter, its replay.

Members see their organizations' letters (operators all), as the API; owners replay
with ``ingest.replay`` exactly as ``POST /api/v1/dead-letters/{id}/replay/`` does.
Inspectors see no button and a replay they post anyway is a 403; another
organization's letter is the 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sensorgrid.dashboard.lists import table
from sensorgrid.dashboard.lists.dead_letter_query import (
    DeadLetterFilter,
    LetterCriteria,
    letters_for,
    shown_payload,
)
from sensorgrid.dashboard.views import visible_or_404
from sensorgrid.ingest.replay import replay
from sensorgrid.telemetry.models import DeadLetter
from sensorgrid.tenancy.scoping import Action
from sensorgrid.tenancy.viewsets import OWNER_ONLY

COLUMNS = [
    table.Column("Received at (UTC)"),
    table.Column("Reason"),
    table.Column("Device id"),
    table.Column("Source"),
    table.Column("Count", numeric=True),
    table.Column("State"),
]
FILTERS = ("reason", "device", "state", "since", "until")


@login_required
def dead_letters_page(request):
    form = DeadLetterFilter(request.GET)
    context: dict = {"errors": [], "page": None}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        criteria = LetterCriteria(
            data.get("reason") or "",
            data.get("device") or "",
            data.get("state") or "",
            data.get("since"),
            data.get("until"),
        )
        letters = letters_for(request.user, criteria)
        try:
            context["page"] = table.page_of(letters, data.get("page") or 1, request.GET)
        except table.PageMissing as missing:
            context["errors"] = [str(missing)]
            status = 400
    else:
        context["errors"] = table.errors_of(form, whole="Time range")
        status = 400
    context["headers"] = table.headers(COLUMNS, request.GET, "")
    context["controls"] = form.controls()
    context["filtered"] = any(request.GET.get(name) for name in FILTERS)
    return render(request, "dashboard/lists/dead_letters.html", context, status=status)


@login_required
def dead_letter_page(request, pk: int):
    letter = visible_or_404(
        DeadLetter.objects.for_user(request.user, Action.VIEW).select_related("node"), pk
    )
    context = {
        "letter": letter,
        "payload": shown_payload(letter),
        "can_replay": letter.resolved_at is None
        and DeadLetter.objects.can(request.user, Action.CHANGE, letter),
    }
    return render(request, "dashboard/lists/dead_letter.html", context)


@login_required
@require_POST
def dead_letter_replay(request, pk: int):
    letter = visible_or_404(DeadLetter.objects.for_user(request.user, Action.VIEW), pk)
    if not DeadLetter.objects.can(request.user, Action.CHANGE, letter):
        raise PermissionDenied(OWNER_ONLY)
    result = replay(letter)
    if result.stored:
        messages.success(
            request,
            f"Replayed: stored {result.accepted} value(s)"
            + (f", {result.duplicates} already stored" if result.duplicates else "")
            + ". The letter is resolved.",
        )
    else:
        messages.error(
            request, f"Replayed, still refused: {result.letter.reason}: {result.letter.detail}"
        )
    return redirect(reverse("dashboard:dead-letter", args=[letter.pk]))
