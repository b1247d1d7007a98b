"""The latest-value cache: per node ``{quantity key: [ts, value]}``, newest ts wins.

It lives in Django's default cache, so it follows ``SENSORGRID_REDIS_URL`` like the
channel layer: in-process (LocMem) by default, shared in Redis when set. ``ts`` is in
epoch seconds (compares correctly, packs small). The ``telemetry.Latest`` table stays
the truth: a node missing from the cache (evicted, never published, fresh Redis) is
read from it, and the publisher seeds a node from it before merging new values, so a
cached entry always holds every quantity the node has reported.

Two processes merging into the same node at the same instant can lose one of the two
updates in the cache (read-modify-write); the next sample of that quantity repairs it,
and the entries expire after ``TIMEOUT`` seconds back to the table.
"""

from collections.abc import Iterable

from django.core.cache import cache

from sensorgrid.inventory.models import Node
from sensorgrid.isotime import epoch_iso
from sensorgrid.telemetry.models import Latest

TIMEOUT = 6 * 3600
Values = dict[str, tuple[float, float]]  # quantity key → (epoch ts, value)


def _key(node_id: int) -> str:
    return f"live:latest:{node_id}"


def _from_table(node_ids: Iterable[int]) -> dict[int, Values]:
    found: dict[int, Values] = {}
    rows = Latest.objects.filter(node_id__in=list(node_ids)).values_list(
        "node_id", "quantity__key", "ts", "value"
    )
    for node_id, key, ts, value in rows:
        found.setdefault(node_id, {})[key] = (ts.timestamp(), value)
    return found


def read(node_ids: Iterable[int]) -> dict[int, Values]:
    """The latest values of these nodes: cache first, the Latest table for the others."""
    node_ids = list(node_ids)
    cached = cache.get_many([_key(n) for n in node_ids])
    found: dict[int, Values] = {}
    missing = []
    for node_id in node_ids:
        entry = cached.get(_key(node_id))
        if entry is None:
            missing.append(node_id)
        else:
            found[node_id] = {k: (ts, value) for k, (ts, value) in entry.items()}
    if missing:
        loaded = _from_table(missing)
        for node_id in missing:
            found[node_id] = loaded.get(node_id, {})
            # add(): a publisher that wrote meanwhile has newer values; keep those.
            cache.add(_key(node_id), found[node_id], TIMEOUT)
    return found


def merge(updates: dict[int, Values]) -> dict[int, Values]:
    """Merge new values into the cache; return per node those that moved it forward.

    A late sample (older than the cached one) or a repeated one is not news: it is left
    out of the result, so clients only ever see values move forward in time.
    """
    current = read(updates)
    advanced: dict[int, Values] = {}
    changed: dict[str, Values] = {}
    for node_id, values in updates.items():
        entry = dict(current.get(node_id, {}))
        news = {}
        for key, (ts, value) in values.items():
            old = entry.get(key)
            if old is None or ts > old[0] or (ts == old[0] and value != old[1]):
                entry[key] = news[key] = (ts, value)
        if news:
            advanced[node_id] = news
            changed[_key(node_id)] = entry
    if changed:
        cache.set_many(changed, TIMEOUT)
    return advanced


def snapshots(node_ids: list[int], since: dict[int, float] | None = None) -> list[dict]:
    """One ``snapshot`` frame per node (docs/dashboard.md), in the given order.

    ``since``: per node, the epoch from which values may be shown (a public
    installation's start for a viewer who is not a member); older values are left out.
    """
    return snapshots_of([(node_ids, since)])[0]


def snapshots_of(asked: list[tuple[list[int], dict[int, float] | None]]) -> list[list[dict]]:
    """``snapshots(nodes, since)`` of each of ``asked``, with one cache read and one
    status query for them all (the subscriptions of many connections, live.lookups)."""
    if not asked:
        return []
    node_ids = list(dict.fromkeys(n for nodes, _ in asked for n in nodes))
    values = read(node_ids)
    statuses = dict(Node.objects.filter(pk__in=node_ids).values_list("pk", "status"))
    return [
        [_snapshot(n, values.get(n, {}), statuses.get(n), (since or {}).get(n)) for n in nodes]
        for nodes, since in asked
    ]


def _snapshot(node_id: int, values: Values, status: str | None, since: float | None) -> dict:
    node_values = clip(values, since)
    newest = max((ts for ts, _ in node_values.values()), default=None)
    return {
        "type": "snapshot",
        "node": node_id,
        "ts": epoch_iso(newest),
        "values": {key: value for key, (_, value) in sorted(node_values.items())},
        "status": status,
    }


def clip(values: dict, since: float | None) -> dict:
    """``values`` ({key: (ts, value)}) without those measured before ``since``."""
    if since is None:
        return values
    return {key: tv for key, tv in values.items() if tv[0] >= since}


def forget(node_ids: Iterable[int]) -> None:
    """Drop cached entries (tests, and a node whose data was deleted)."""
    cache.delete_many([_key(n) for n in node_ids])
