"""The route template of a request: a bounded label for metrics and logs.

``/api/v1/nodes/12/`` becomes ``api/v1/nodes/<pk>/``. Labelling by raw path would
create one time series per object id (unbounded cardinality), so only the URL
pattern that matched is used, with DRF's regular expressions and Django's path
converters written the same way (``<name>``).
"""

import re

from django.urls import ResolverMatch

UNMATCHED = "unmatched"

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_of(match: ResolverMatch | None) -> str:
    """The normalized route template of a resolved request, or ``"unmatched"``."""
    if match is None or match.route is None:
        return UNMATCHED
    return normalize(match.route) or "/"


def normalize(route: str) -> str:
    """Write a Django route (path converters, regular expressions) as ``a/<name>/b``."""
    route = _named_groups(route).replace("^", "").replace("$", "").replace("\\", "")
    return _CONVERTER.sub(r"<\1>", route)


def _named_groups(pattern: str) -> str:
    """Replace each ``(?P<name>…)``, nested parentheses included, by ``<name>``."""
    out: list[str] = []
    i = 0
    while (start := pattern.find("(?P<", i)) != -1:
        end_of_name = pattern.find(">", start)
        if end_of_name == -1:
            break
        out.append(pattern[i:start])
        out.append(f"<{pattern[start + 4 : end_of_name]}>")
        depth, j = 1, end_of_name + 1
        while j < len(pattern) and depth:
            if pattern[j] == "\\":
                j += 2
                continue
            depth += {"(": 1, ")": -1}.get(pattern[j], 0)
            j += 1
        i = j
    out.append(pattern[i:])
    return "".join(out)
