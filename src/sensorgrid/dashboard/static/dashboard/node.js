// The live parts of a node's tabs: its tile and health (Latest), its alert rows
// (Latest: open ones; Alerts: open and resolved) and the chart (History, node-chart.js),
// all from one /ws/live/ subscription to the node.
import { bindAlerts } from "./alerts.js";
import { Live, readJson } from "./live.js";
import { mountChart } from "./node-chart.js";
import { apply, showStatus } from "./tiles.js";

const config = readJson("node-config");
const chart = document.getElementById("chart") ? mountChart(config) : null;
const facts = document.querySelector(".facts");

function status(frame) {
  if (facts && frame.node === config.node && frame.status) showStatus(facts, frame.status);
}

const live = new Live();
live.on("snapshot", (frame) => {
  apply(frame);
  status(frame);
});
// A node never heard from shows how to connect it (templates/dashboard/node/_connect_hint.html)
// until its first values arrive: then Latest drops the hint (its tile shows the values),
// History reloads to draw the chart in its place.
function firstValues(frame) {
  const hint = document.querySelector(".notice[data-connect-hint]");
  if (!hint || frame.node !== config.node) return;
  if (document.querySelector(".history")) window.location.reload();
  else hint.remove();
}

live.on("delta", (frame) => {
  apply(frame);
  if (chart) chart.extend(frame);
  firstValues(frame);
});
live.on("status", (frame) => {
  apply(frame);
  status(frame);
});
live.on("error", (frame) => {
  document.getElementById("live-state").textContent = `Live updates refused: ${frame.error}`;
});
const alertList = document.querySelector("[data-alert-list]");
if (alertList) {
  bindAlerts(live, { rowUrl: config.row, onlyOpen: alertList.hasAttribute("data-only-open"), node: config.node });
}
live.subscribe({ node: config.node });
live.connect();
