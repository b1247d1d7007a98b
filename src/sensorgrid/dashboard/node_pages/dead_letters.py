"""The "Dead letters" tab: what was refused for this node (resolved to it), newest
first, with the list's query (lists.dead_letter_query) and its replay: owners get a
Replay button on open letters; the replay itself is the list's (same checks, 403 for
inspectors), and its answer is the letter's page with the outcome."""

from django.contrib.auth.decorators import login_required

from sensorgrid.dashboard.lists.dead_letter_query import LetterCriteria, letters_for
from sensorgrid.dashboard.node_pages.tabs import (
    node_context,
    node_or_404,
    page_or_error,
    render_tab,
)
from sensorgrid.telemetry.models import DeadLetter
from sensorgrid.tenancy.scoping import Action


@login_required
def dead_letters_page(request, pk: int):
    node = node_or_404(request, pk)
    letters = letters_for(request.user, LetterCriteria(node=node.pk))
    page, error = page_or_error(request, letters)
    replayable: set[int] = set()
    if page and page.rows:
        open_ids = [letter.pk for letter in page.rows if letter.resolved_at is None]
        may = DeadLetter.objects.for_user(request.user, Action.CHANGE).filter(pk__in=open_ids)
        replayable = set(may.values_list("pk", flat=True))
    context = node_context(
        request, node, "dead-letters", page=page, error=error, replayable=replayable
    )
    return render_tab(
        request, node, "dashboard/node/dead_letters.html", context, status=400 if error else 200
    )
