"""``rate_of_change``: the change between two consecutive samples, per ``per_seconds``.

Parameters: ``limit`` (> 0, in the quantity's unit per ``per_seconds``), ``per_seconds``
(default 60), ``direction`` (``rise``, ``fall`` or ``both``, default ``both``),
``for_seconds`` (default 0), ``max_gap_seconds`` (default 3600: two samples further
apart than this are not compared, an outage is not a slope). It resolves on the first
pair of samples whose rate is within the limit.
"""

from sensorgrid.alerts.rules.base import Judgement, Kind, ParamError, no_unknown, number

DIRECTIONS = ("rise", "fall", "both")


class RateOfChange(Kind):
    key = "rate_of_change"

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(
            params, {"limit", "per_seconds", "direction", "for_seconds", "max_gap_seconds"}, errors
        )
        limit = number(params, "limit", errors, required=True, minimum=0)
        per = number(params, "per_seconds", errors, default=60, minimum=1)
        duration = number(params, "for_seconds", errors, default=0, minimum=0)
        gap = number(params, "max_gap_seconds", errors, default=3600, minimum=1)
        direction = params.get("direction", "both")
        if direction not in DIRECTIONS:
            errors["direction"] = f"Must be one of {', '.join(DIRECTIONS)}."
        if errors:
            raise ParamError(errors)
        return {
            "limit": limit,
            "per_seconds": per,
            "direction": direction,
            "for_seconds": duration,
            "max_gap_seconds": gap,
        }

    def judge(self, params, memory, ts, value):
        if memory.last_ts is None or memory.last_value is None:
            return Judgement.HOLD, {}, ""
        seconds = (ts - memory.last_ts).total_seconds()
        if seconds > params["max_gap_seconds"]:
            return Judgement.HOLD, {}, ""
        rate = (value - memory.last_value) / seconds * params["per_seconds"]
        direction, limit = params["direction"], params["limit"]
        breach = (direction in ("rise", "both") and rate > limit) or (
            direction in ("fall", "both") and -rate > limit
        )
        if breach:
            return Judgement.BREACH, {}, f"changed {rate:+g} per {params['per_seconds']:g} s"
        return Judgement.CLEAR, {}, ""
