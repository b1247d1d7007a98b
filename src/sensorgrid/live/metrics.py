"""Metrics of the live push (docs/dashboard.md), in the style of observability.metrics.

Only prometheus_client is imported here. No labels with ids: counts are totals.
"""

from prometheus_client import Counter

PUBLISHED = Counter(
    "sensorgrid_live_published",
    "Messages sent to the channel layer: node updates (delta, status, alert) and "
    "permission changes (permissions).",
    ["kind"],
)
PUBLISH_COALESCED = Counter(
    "sensorgrid_live_publish_coalesced",
    "Node updates merged into one still waiting in the publisher (newest value wins).",
)
PUBLISH_DROPPED = Counter(
    "sensorgrid_live_publish_dropped",
    "Node updates the publisher dropped because too many nodes were waiting.",
)
FRAMES_SENT = Counter(
    "sensorgrid_live_frames",
    "Frames sent to WebSocket clients, by type (delta, snapshot, status, …).",
    ["type"],
)
COALESCED = Counter(
    "sensorgrid_live_coalesced",
    "Deltas merged into a pending one for the same client and node (per-client rate limit).",
)
DROPPED_CLIENTS = Counter(
    "sensorgrid_live_dropped_clients",
    "WebSocket clients closed with 4001 because they did not keep up.",
)
DROPPED_FRAMES = Counter(
    "sensorgrid_live_dropped_frames",
    "Frames never sent because their client was closed for being too slow.",
)
