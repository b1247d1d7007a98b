"""Mail the layer's organization owners when a pipeline keeps failing.

An outage mails at the second failure in a row (not the third, fourth …), so a source
that is down for a week causes one message; a run whose records were all unusable
mails at once (no retry fixes a changed format). A success resets both.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail

from sensorgrid.tenancy.models import Role, User

log = logging.getLogger(__name__)


def owners(organization_id: int) -> list[str]:
    return sorted(
        User.objects.filter(
            is_active=True,
            memberships__organization_id=organization_id,
            memberships__role=Role.OWNER,
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def failure(pipeline, run) -> int:
    """Send the mail; returns how many messages went out (mail errors are logged only)."""
    recipients = owners(pipeline.layer.organization_id)
    if not recipients:
        log.warning("pipeline %s failed; its organization has no owner email", pipeline.key)
        return 0
    base = settings.SENSORGRID_BASE_URL.rstrip("/")
    link = f"{base}/admin/geo/pipeline/{pipeline.pk}/change/" if base else ""
    times = pipeline.consecutive_failures
    how = "failed twice in a row" if times == 2 else f"failed ({times} in a row)"
    if times == 1:
        how = "failed: none of its records could be used"
    subject = f"[SensorGrid] Pipeline {pipeline.key} {how}"
    body = "\n".join(
        line
        for line in [
            f"The pipeline {pipeline.key} ({pipeline}) of the layer {pipeline.layer.key} "
            f"{how}. The layer keeps the data of the last good run.",
            "",
            f"Last error ({run.started_at:%Y-%m-%d %H:%M} UTC):",
            f"  {run.error}",
            "",
            f"History: sensorgrid pipeline history {pipeline.key}",
            f"Admin: {link}" if link else None,
            "",
            "You receive this because you own the organization. No further mail is sent "
            "until the pipeline has succeeded again.",
        ]
        if line is not None
    )
    try:
        return send_mail(subject, body, None, recipients)
    except Exception:  # the run is recorded already; a mail outage must not hide it
        log.exception("cannot mail the failure of pipeline %s", pipeline.key)
        return 0
