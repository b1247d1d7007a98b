"""Step 7: once the batch commits, count it in the process's metrics.

``store`` announced ``Committed`` inside the batch's transaction; the consumers that
settings ``AFTER_COMMIT_CONSUMERS`` lists for it (``sensorgrid.events``) run inside it
(in-transaction) or when it commits; ingest imports none of them. The entry point's
transaction is the outermost, so they run when it commits: ``sensorgrid ingest`` runs
the after-ack consumers after its PUBACKs, HTTP ingest at commit.
"""

from django.db import transaction

from sensorgrid.ingest.steps.work import Work
from sensorgrid.observability import metrics


def after_commit(work: Work) -> None:
    # Counted once committed: an enclosing transaction may still roll back and retry.
    counted = [(p.reason, p.envelope.source) for p in work.pending]
    envelopes, result = work.envelopes, work.result
    transaction.on_commit(lambda: metrics.dead_lettered(counted))
    transaction.on_commit(lambda: metrics.ingested(envelopes, result.inserted, result.duplicates))
