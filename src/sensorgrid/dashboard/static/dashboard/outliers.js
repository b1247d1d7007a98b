// The live outlier page (docs/images.md, "The outlier page"): each live "outlier" frame
// makes the page fetch that score's card as the server renders it
// (/outliers/<id>/row/), so one template draws every card with the permissions (the
// Acknowledge button) the server decided, as the alerts page does with its rows.
import { Live, readJson } from "./live.js";

const config = readJson("outliers-config");
const list = document.querySelector("[data-outlier-list]");
const empty = document.querySelector("[data-empty]");
const news = document.getElementById("outlier-news");
const live = new Live();
const requests = new Map(); // score id → number of the newest request (older answers lose)
let counter = 0;

// Where the server puts a card: by the picture's taken time, newest first, then by id
// (outlier_pages.py orders by -ts, -pk). Scores arrive in the order the worker finished
// them, which is not the order the pictures were taken in.
function key(card) {
  const taken = card.querySelector("time[datetime]");
  return [taken ? Date.parse(taken.getAttribute("datetime")) : 0, Number(card.dataset.score)];
}

function newer(a, b) {
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

function place(card) {
  const existing = list.querySelector(`li[data-score="${card.dataset.score}"]`);
  if (existing) {
    existing.replaceWith(card);
  } else {
    const mine = key(card);
    const after = [...list.querySelectorAll(":scope > li[data-score]")].find((other) =>
      newer(mine, key(other)),
    );
    list.insertBefore(card, after ?? null);
    card.classList.add("fresh");
  }
  if (empty) empty.hidden = list.children.length > 0;
  if (news) {
    const title = card.querySelector(".outlier-title").textContent.trim();
    news.textContent = card.dataset.outlier === "true" ? `Outlier: ${title}` : `Scored: ${title}`;
  }
}

live.on("outlier", async (frame) => {
  if (!list || !config.live) return;
  if (config.node !== null && frame.node !== config.node) return;
  if (config.onlyOutliers && !frame.outlier.is_outlier) return;
  const id = frame.outlier.id;
  const request = ++counter;
  requests.set(id, request);
  const query = new URLSearchParams({ next: location.pathname + location.search });
  const zone = document.querySelector("[data-page-time-zone]");
  if (zone) query.set("tz", zone.textContent.trim());
  const response = await fetch(`${config.row.replace("/0/", `/${id}/`)}?${query}`, {
    credentials: "same-origin",
    headers: { Accept: "text/html" },
  });
  if (!response.ok || requests.get(id) !== request) return;
  // The server's own template output (autoescaped, same origin), parsed inert.
  const template = document.createElement("template");
  template.innerHTML = (await response.text()).trim();
  const card = template.content.querySelector("li[data-score]");
  if (card) place(card);
});
live.on("error", (frame) => {
  document.getElementById("live-state").textContent = `Live updates refused: ${frame.error}`;
});
for (const subscription of config.subscriptions) live.subscribe(subscription);
live.connect();
