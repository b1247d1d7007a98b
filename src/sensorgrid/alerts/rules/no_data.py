"""``no_data``: no sample of the rule's quantity for ``for_seconds``.

Checked by the worker every minute against the newest stored sample of each series
in scope (the ``Latest`` table: one indexed read per rule, no history scan). A series
that never sent anything counts from the rule's creation. The alert resolves as soon
as a sample younger than ``for_seconds`` is committed (the ingest hook), or at the
next check.
"""

from sensorgrid.alerts.rules.base import Kind, ParamError, no_unknown, number


class NoData(Kind):
    key = "no_data"
    sample_driven = False

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(params, {"for_seconds"}, errors)
        duration = number(params, "for_seconds", errors, required=True, minimum=60)
        if errors:
            raise ParamError(errors)
        return {"for_seconds": duration}
