// Alert tables that follow the live "alert" frames (docs/dashboard.md, "Alerts").
// A frame makes the page fetch that alert's row as the server renders it
// (/alerts/<id>/row/), so one template draws every row, however it got on the page,
// with the permissions (the Acknowledge button) the server decided.

const STATE_FILTERS = {
  "": () => true,
  open: (state) => state !== "resolved",
  unacknowledged: (state) => state === "open",
  resolved: (state) => state === "resolved",
};

export function bindAlerts(live, { rowUrl, state = "", severity = "", onlyOpen = false, node = null }) {
  const container = document.querySelector("[data-alert-list]");
  if (!container) return;
  const news = document.getElementById("alert-news");
  const matchesState = STATE_FILTERS[state] || STATE_FILTERS[""];
  const requests = new Map(); // alert id → number of the newest request (older answers lose)
  let counter = 0;

  function wanted(row) {
    const rowState = row.dataset.state;
    if (onlyOpen && rowState === "resolved") return false;
    if (severity && row.dataset.severity !== severity) return false;
    return matchesState(rowState);
  }

  function refreshEmpty() {
    for (const body of container.querySelectorAll("tbody[data-alerts]")) {
      const empty = container.querySelector(`[data-empty="${body.dataset.alerts}"]`);
      if (empty) empty.hidden = body.rows.length > 0;
    }
  }

  function place(row, event) {
    const existing = container.querySelector(`tr[data-alert="${row.dataset.alert}"]`);
    const list = row.dataset.state === "resolved" ? "resolved" : "open";
    const body = container.querySelector(`tbody[data-alerts="${list}"]`);
    if (!body || !wanted(row)) {
      if (existing) existing.remove();
    } else if (existing && existing.parentElement === body) {
      existing.replaceWith(row); // acknowledged: it keeps its place
    } else {
      if (existing) existing.remove();
      body.prepend(row); // newest first (opened, or resolved just now)
      row.classList.add("fresh");
    }
    refreshEmpty();
    if (news && (event === "opened" || event === "resolved")) {
      const message = row.querySelector('[data-field="message"]').textContent;
      news.textContent = event === "opened" ? `New ${row.dataset.severity} alert: ${message}` : `Alert resolved: ${message}`;
    }
  }

  live.on("alert", async (frame) => {
    if (node !== null && frame.node !== node) return;
    const id = frame.alert.id;
    const request = ++counter;
    requests.set(id, request);
    const next = new URLSearchParams({ next: location.pathname + location.search });
    // The row's times in the zone this page shows (the footer's; base.html).
    const zone = document.querySelector("[data-page-time-zone]");
    if (zone) next.set("tz", zone.textContent.trim());
    const response = await fetch(`${rowUrl.replace("/0/", `/${id}/`)}?${next}`, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok || requests.get(id) !== request) return;
    // The row is the server's own template output (autoescaped, same origin), parsed
    // in an inert <template>; user text in it is already text, and the CSP refuses any
    // inline handler besides.
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const row = template.content.querySelector("tr[data-alert]");
    if (row) place(row, frame.alert.event);
  });
}
