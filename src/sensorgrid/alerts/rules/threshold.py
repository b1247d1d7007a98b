"""``threshold``: above (or below) a value for a minimum duration, cleared with hysteresis.

Parameters: exactly one of ``above`` / ``below``; ``clear`` (default: the same value),
the value the series must cross back over to resolve; ``for_seconds`` (default 0), how
long the condition must hold, counted from the first breaching sample's timestamp, with
no sample in between that does not breach. Example: CO2 above 1,000 ppm for 10 min,
clear below 900 → ``{"above": 1000, "clear": 900, "for_seconds": 600}``.
"""

from sensorgrid.alerts.rules.base import Judgement, Kind, ParamError, no_unknown, number


class Threshold(Kind):
    key = "threshold"

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(params, {"above", "below", "clear", "for_seconds"}, errors)
        above = number(params, "above", errors)
        below = number(params, "below", errors)
        if ("above" in params) == ("below" in params):
            errors["above"] = "Give exactly one of above and below."
        limit = above if above is not None else below
        clear = number(params, "clear", errors, default=limit)
        duration = number(params, "for_seconds", errors, default=0, minimum=0)
        if not errors and above is not None and clear > above:
            errors["clear"] = "With above, clear must not be greater (it is the lower band)."
        if not errors and below is not None and clear < below:
            errors["clear"] = "With below, clear must not be smaller (it is the upper band)."
        if errors:
            raise ParamError(errors)
        direction = "above" if above is not None else "below"
        return {direction: limit, "clear": clear, "for_seconds": duration}

    def judge(self, params, memory, ts, value):
        if "above" in params:
            if value > params["above"]:
                return Judgement.BREACH, {}, f"{value:g} > {params['above']:g}"
            if value < params["clear"]:
                return Judgement.CLEAR, {}, ""
        else:
            if value < params["below"]:
                return Judgement.BREACH, {}, f"{value:g} < {params['below']:g}"
            if value > params["clear"]:
                return Judgement.CLEAR, {}, ""
        return Judgement.HOLD, {}, ""
