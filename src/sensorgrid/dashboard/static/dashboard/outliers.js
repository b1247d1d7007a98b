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

function place(card) {
  const existing = list.querySelector(`li[data-score="${card.dataset.score}"]`);
  if (existing) {
    existing.replaceWith(card);
  } else {
    list.prepend(card); // newest first
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
