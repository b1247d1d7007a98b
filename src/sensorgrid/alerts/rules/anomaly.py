"""``anomaly``: a robust z-score over a sliding window of the series' last samples.

    z = |value − median(window)| / max(1.4826 × MAD(window), min_scale)

MAD is the median absolute deviation; × 1.4826 it estimates the standard deviation
of normal noise without being inflated by the outliers it is meant to find. It
fires when z > ``k`` (default 6) and resolves when z ≤ ``clear_k`` (default ``k``).
Nothing is judged before the window holds ``min_samples`` (default 20) values.
Every sample enters the window (``window``, default 60), so a lasting level shift
becomes the new normal after about half a window and the alert resolves: the rule
finds sudden departures, thresholds find bad levels. ``min_scale`` (default 0, in
the quantity's unit) keeps a very steady series (a stuck sensor: MAD 0) from firing
on the smallest change. bench/anomaly.py measures detection and false positives at
several ``k`` on simulated data with injected faults (docs/alerts.md).
"""

from sensorgrid.alerts.rules.base import Judgement, Kind, ParamError, no_unknown, number
from sensorgrid.robust import NORMAL_CONSISTENCY, spread

MAX_WINDOW = 1000


def robust_z(window: list[float], value: float, min_scale: float) -> float:
    """How far ``value`` lies from the window's median, in robust standard deviations."""
    base = spread(window)
    scale = max(NORMAL_CONSISTENCY * base.mad, min_scale)
    if scale == 0:
        return 0.0 if value == base.median else float("inf")
    return abs(value - base.median) / scale


class Anomaly(Kind):
    key = "anomaly"

    def validate(self, params: dict) -> dict:
        errors: dict[str, str] = {}
        no_unknown(
            params, {"window", "k", "clear_k", "min_samples", "min_scale", "for_seconds"}, errors
        )
        window = number(params, "window", errors, default=60, minimum=5)
        k = number(params, "k", errors, default=6.0, minimum=0.5)
        clear_k = number(params, "clear_k", errors, default=k, minimum=0)
        min_samples = number(params, "min_samples", errors, default=20, minimum=3)
        min_scale = number(params, "min_scale", errors, default=0.0, minimum=0)
        duration = number(params, "for_seconds", errors, default=0, minimum=0)
        if window is not None and (window != int(window) or window > MAX_WINDOW):
            errors["window"] = f"Must be a whole number of samples up to {MAX_WINDOW}."
        if not errors and min_samples > window:
            errors["min_samples"] = "Must not exceed window."
        if not errors and clear_k > k:
            errors["clear_k"] = "Must not exceed k."
        if errors:
            raise ParamError(errors)
        return {
            "window": int(window),
            "k": k,
            "clear_k": clear_k,
            "min_samples": int(min_samples),
            "min_scale": min_scale,
            "for_seconds": duration,
        }

    def judge(self, params, memory, ts, value):
        window = list(memory.extra.get("window", []))
        judgement, detail = Judgement.HOLD, ""
        if len(window) >= params["min_samples"]:
            z = robust_z(window, value, params["min_scale"])
            if z > params["k"]:
                judgement, detail = Judgement.BREACH, f"robust z-score {z:.1f} > {params['k']:g}"
            elif z <= params["clear_k"]:
                judgement = Judgement.CLEAR
        window.append(value)
        return judgement, {"window": window[-params["window"] :]}, detail
